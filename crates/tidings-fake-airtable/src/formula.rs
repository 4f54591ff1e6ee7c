//! A small evaluator for Airtable formulas: what tidings sends and the seeds use, and anything
//! else refused as Airtable refuses a formula it cannot parse (`INVALID_FILTER_BY_FORMULA`).
//!
//! Supported: `{Field}`, numbers, `'text'` and `"text"`, `= != <> < <= > >=`, `AND(…)`, `OR(…)`,
//! `NOT(x)`, `YEAR(x)`, `IS_AFTER(a, b)`, `IS_BEFORE(a, b)`, `LAST_MODIFIED_TIME()`,
//! `CREATED_TIME()`, `TRUE()`, `FALSE()`, `BLANK()`, and parentheses.

use std::collections::BTreeSet;

use jiff::Timestamp;
use jiff::civil::Date;
use jiff::tz::TimeZone;
use serde_json::{Map, Value as Json};

/// A parsed formula.
#[derive(Debug, Clone, PartialEq)]
pub struct Formula(Expr);

/// What a formula is evaluated against.
#[derive(Debug, Clone, Copy)]
pub struct RecordView<'a> {
    pub fields: &'a Map<String, Json>,
    pub created_time: Timestamp,
    pub last_modified: Timestamp,
}

#[derive(Debug, Clone, PartialEq)]
enum Expr {
    Number(f64),
    Text(String),
    Field(String),
    Call(Func, Vec<Expr>),
    Compare(Box<Expr>, Op, Box<Expr>),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Func {
    And,
    Or,
    Not,
    Year,
    IsAfter,
    IsBefore,
    LastModifiedTime,
    CreatedTime,
    True,
    False,
    Blank,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Op {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
}

#[derive(Debug, Clone, PartialEq)]
enum Value {
    Null,
    Number(f64),
    Text(String),
    Bool(bool),
    Time(Timestamp),
}

impl Formula {
    /// Parses `text`, checking every `{Field}` against `fields` (the table's field names).
    pub fn parse(text: &str, fields: &BTreeSet<String>) -> Result<Formula, String> {
        let tokens = tokenize(text)?;
        let mut parser = Parser { tokens, at: 0 };
        let expr = parser.comparison()?;
        if parser.at != parser.tokens.len() {
            return Err(format!(
                "The formula for filtering records is invalid: unexpected `{}`",
                parser.tokens[parser.at].shown()
            ));
        }
        let mut unknown = Vec::new();
        expr.unknown_fields(fields, &mut unknown);
        if !unknown.is_empty() {
            return Err(format!(
                "The formula for filtering records is invalid: Unknown field names: {}",
                unknown.join(", ")
            ));
        }
        Ok(Formula(expr))
    }

    /// Whether the record passes: the formula's value is truthy.
    pub fn matches(&self, record: &RecordView<'_>) -> bool {
        truthy(&self.0.eval(record))
    }
}

impl Expr {
    fn unknown_fields(&self, known: &BTreeSet<String>, out: &mut Vec<String>) {
        match self {
            Expr::Field(name) if !known.contains(name) => out.push(name.to_lowercase()),
            Expr::Call(_, args) => args.iter().for_each(|a| a.unknown_fields(known, out)),
            Expr::Compare(a, _, b) => {
                a.unknown_fields(known, out);
                b.unknown_fields(known, out);
            }
            _ => {}
        }
    }

    fn eval(&self, record: &RecordView<'_>) -> Value {
        match self {
            Expr::Number(n) => Value::Number(*n),
            Expr::Text(t) => Value::Text(t.clone()),
            Expr::Field(name) => record.fields.get(name).map_or(Value::Null, from_json),
            Expr::Compare(a, op, b) => Value::Bool(compare(&a.eval(record), *op, &b.eval(record))),
            Expr::Call(func, args) => {
                let arg = |i: usize| args.get(i).map_or(Value::Null, |a| a.eval(record));
                match func {
                    Func::And => Value::Bool(args.iter().all(|a| truthy(&a.eval(record)))),
                    Func::Or => Value::Bool(args.iter().any(|a| truthy(&a.eval(record)))),
                    Func::Not => Value::Bool(!truthy(&arg(0))),
                    Func::Year => match time(&arg(0)) {
                        Some(t) => Value::Number(f64::from(t.to_zoned(TimeZone::UTC).year())),
                        None => Value::Null,
                    },
                    Func::IsAfter | Func::IsBefore => match (time(&arg(0)), time(&arg(1))) {
                        (Some(a), Some(b)) => {
                            Value::Bool(if *func == Func::IsAfter { a > b } else { a < b })
                        }
                        _ => Value::Bool(false),
                    },
                    Func::LastModifiedTime => Value::Time(record.last_modified),
                    Func::CreatedTime => Value::Time(record.created_time),
                    Func::True => Value::Bool(true),
                    Func::False => Value::Bool(false),
                    Func::Blank => Value::Null,
                }
            }
        }
    }
}

fn from_json(value: &Json) -> Value {
    match value {
        Json::Null => Value::Null,
        Json::Bool(b) => Value::Bool(*b),
        Json::Number(n) => n.as_f64().map_or(Value::Null, Value::Number),
        Json::String(s) => Value::Text(s.clone()),
        Json::Array(items) => Value::Text(
            items
                .iter()
                .map(|item| match item {
                    Json::String(s) => s.clone(),
                    other => other.to_string(),
                })
                .collect::<Vec<_>>()
                .join(", "),
        ),
        Json::Object(object) => Value::Text(
            object
                .get("name")
                .and_then(Json::as_str)
                .unwrap_or_default()
                .to_owned(),
        ),
    }
}

fn truthy(value: &Value) -> bool {
    match value {
        Value::Null => false,
        Value::Number(n) => *n != 0.0,
        Value::Text(t) => !t.is_empty(),
        Value::Bool(b) => *b,
        Value::Time(_) => true,
    }
}

fn time(value: &Value) -> Option<Timestamp> {
    match value {
        Value::Time(t) => Some(*t),
        Value::Text(t) => t.parse::<Timestamp>().ok().or_else(|| {
            let date: Date = t.parse().ok()?;
            date.to_zoned(TimeZone::UTC).ok().map(|z| z.timestamp())
        }),
        _ => None,
    }
}

fn number(value: &Value) -> Option<f64> {
    match value {
        Value::Number(n) => Some(*n),
        Value::Bool(b) => Some(f64::from(u8::from(*b))),
        Value::Text(t) => t.trim().parse().ok(),
        Value::Null | Value::Time(_) => None,
    }
}

fn compare(a: &Value, op: Op, b: &Value) -> bool {
    use std::cmp::Ordering;
    let ordering: Option<Ordering> = match (a, b) {
        (Value::Time(_), _) | (_, Value::Time(_)) => match (time(a), time(b)) {
            (Some(x), Some(y)) => Some(x.cmp(&y)),
            _ => None,
        },
        (Value::Number(_) | Value::Bool(_), _) | (_, Value::Number(_) | Value::Bool(_)) => {
            match (number(a), number(b)) {
                (Some(x), Some(y)) => x.partial_cmp(&y),
                _ => None,
            }
        }
        _ => {
            let text = |v: &Value| match v {
                Value::Text(t) => t.clone(),
                _ => String::new(),
            };
            Some(text(a).cmp(&text(b)))
        }
    };
    match (ordering, op) {
        (None, Op::Ne) => true,
        (None, _) => false,
        (Some(o), Op::Eq) => o == Ordering::Equal,
        (Some(o), Op::Ne) => o != Ordering::Equal,
        (Some(o), Op::Lt) => o == Ordering::Less,
        (Some(o), Op::Le) => o != Ordering::Greater,
        (Some(o), Op::Gt) => o == Ordering::Greater,
        (Some(o), Op::Ge) => o != Ordering::Less,
    }
}

#[derive(Debug, Clone, PartialEq)]
enum Token {
    Number(f64),
    Text(String),
    Field(String),
    Name(String),
    Op(Op),
    Open,
    Close,
    Comma,
}

impl Token {
    fn shown(&self) -> String {
        match self {
            Token::Number(n) => n.to_string(),
            Token::Text(t) => format!("'{t}'"),
            Token::Field(f) => format!("{{{f}}}"),
            Token::Name(n) => n.clone(),
            Token::Op(op) => format!("{op:?}"),
            Token::Open => "(".to_owned(),
            Token::Close => ")".to_owned(),
            Token::Comma => ",".to_owned(),
        }
    }
}

fn tokenize(text: &str) -> Result<Vec<Token>, String> {
    let invalid = |what: String| format!("The formula for filtering records is invalid: {what}");
    let chars: Vec<char> = text.chars().collect();
    let mut tokens = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        i += 1;
        match c {
            c if c.is_whitespace() => {}
            '(' => tokens.push(Token::Open),
            ')' => tokens.push(Token::Close),
            ',' => tokens.push(Token::Comma),
            '=' => tokens.push(Token::Op(Op::Eq)),
            '!' if chars.get(i) == Some(&'=') => {
                i += 1;
                tokens.push(Token::Op(Op::Ne));
            }
            '<' | '>' => {
                let op = match (c, chars.get(i)) {
                    ('<', Some('=')) => Op::Le,
                    ('<', Some('>')) => Op::Ne,
                    ('>', Some('=')) => Op::Ge,
                    ('<', _) => Op::Lt,
                    _ => Op::Gt,
                };
                if matches!(op, Op::Le | Op::Ge) || (op == Op::Ne) {
                    i += 1;
                }
                tokens.push(Token::Op(op));
            }
            '{' => {
                let end = (i..chars.len())
                    .find(|&j| chars[j] == '}')
                    .ok_or_else(|| invalid("a `{` is not closed".to_owned()))?;
                tokens.push(Token::Field(chars[i..end].iter().collect()));
                i = end + 1;
            }
            '\'' | '"' => {
                let mut text = String::new();
                loop {
                    match chars.get(i) {
                        None => return Err(invalid("a string is not closed".to_owned())),
                        Some('\\') => {
                            if let Some(next) = chars.get(i + 1) {
                                text.push(*next);
                            }
                            i += 2;
                        }
                        Some(q) if *q == c => {
                            i += 1;
                            break;
                        }
                        Some(other) => {
                            text.push(*other);
                            i += 1;
                        }
                    }
                }
                tokens.push(Token::Text(text));
            }
            c if c.is_ascii_digit() || c == '.' || c == '-' => {
                let start = i - 1;
                while i < chars.len() && (chars[i].is_ascii_digit() || chars[i] == '.') {
                    i += 1;
                }
                let literal: String = chars[start..i].iter().collect();
                let n = literal
                    .parse()
                    .map_err(|_| invalid(format!("`{literal}` is not a number")))?;
                tokens.push(Token::Number(n));
            }
            c if c.is_ascii_alphabetic() || c == '_' => {
                let start = i - 1;
                while i < chars.len() && (chars[i].is_ascii_alphanumeric() || chars[i] == '_') {
                    i += 1;
                }
                tokens.push(Token::Name(chars[start..i].iter().collect()));
            }
            other => return Err(invalid(format!("unexpected `{other}`"))),
        }
    }
    Ok(tokens)
}

struct Parser {
    tokens: Vec<Token>,
    at: usize,
}

impl Parser {
    fn invalid(&self, what: &str) -> String {
        let near = self
            .tokens
            .get(self.at)
            .map_or_else(|| "the end".to_owned(), |t| format!("`{}`", t.shown()));
        format!("The formula for filtering records is invalid: {what} near {near}")
    }

    fn next(&mut self) -> Option<Token> {
        let token = self.tokens.get(self.at).cloned();
        self.at += 1;
        token
    }

    fn comparison(&mut self) -> Result<Expr, String> {
        let left = self.operand()?;
        if let Some(Token::Op(op)) = self.tokens.get(self.at).cloned() {
            self.at += 1;
            let right = self.operand()?;
            return Ok(Expr::Compare(Box::new(left), op, Box::new(right)));
        }
        Ok(left)
    }

    fn operand(&mut self) -> Result<Expr, String> {
        match self.next() {
            Some(Token::Number(n)) => Ok(Expr::Number(n)),
            Some(Token::Text(t)) => Ok(Expr::Text(t)),
            Some(Token::Field(f)) => Ok(Expr::Field(f)),
            Some(Token::Open) => {
                let inner = self.comparison()?;
                match self.next() {
                    Some(Token::Close) => Ok(inner),
                    _ => Err(self.invalid("expected `)`")),
                }
            }
            Some(Token::Name(name)) => {
                let (func, arity) = match name.to_ascii_uppercase().as_str() {
                    "AND" => (Func::And, 1..=usize::MAX),
                    "OR" => (Func::Or, 1..=usize::MAX),
                    "NOT" => (Func::Not, 1..=1),
                    "YEAR" => (Func::Year, 1..=1),
                    "IS_AFTER" => (Func::IsAfter, 2..=2),
                    "IS_BEFORE" => (Func::IsBefore, 2..=2),
                    "LAST_MODIFIED_TIME" => (Func::LastModifiedTime, 0..=0),
                    "CREATED_TIME" => (Func::CreatedTime, 0..=0),
                    "TRUE" => (Func::True, 0..=0),
                    "FALSE" => (Func::False, 0..=0),
                    "BLANK" => (Func::Blank, 0..=0),
                    _ => return Err(self.invalid(&format!("unknown function {name}"))),
                };
                if self.next() != Some(Token::Open) {
                    return Err(self.invalid(&format!("expected `(` after {name}")));
                }
                let mut args = Vec::new();
                if self.tokens.get(self.at) == Some(&Token::Close) {
                    self.at += 1;
                } else {
                    loop {
                        args.push(self.comparison()?);
                        match self.next() {
                            Some(Token::Comma) => {}
                            Some(Token::Close) => break,
                            _ => return Err(self.invalid("expected `,` or `)`")),
                        }
                    }
                }
                if !arity.contains(&args.len()) {
                    return Err(self.invalid(&format!(
                        "{name} takes {} argument(s), not {}",
                        arity.start(),
                        args.len()
                    )));
                }
                Ok(Expr::Call(func, args))
            }
            _ => Err(self.invalid("expected a value")),
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn check(formula: &str, fields: Json, modified: &str) -> bool {
        let Json::Object(fields) = fields else {
            panic!()
        };
        let known: BTreeSet<String> = ["Created", "Rating", "Status", "Tool"]
            .iter()
            .map(|s| (*s).to_owned())
            .collect();
        let f = Formula::parse(formula, &known).unwrap();
        f.matches(&RecordView {
            fields: &fields,
            created_time: "2025-01-01T00:00:00Z".parse().unwrap(),
            last_modified: modified.parse().unwrap(),
        })
    }

    #[test]
    fn the_seed_formula_and_the_incremental_one() {
        let rec = json!({"Created": "2025-03-09T07:00:00.000Z", "Rating": 4});
        assert!(check(
            "YEAR({Created})=2025",
            rec.clone(),
            "2025-04-01T00:00:00Z"
        ));
        assert!(!check(
            "YEAR({Created})=2024",
            rec.clone(),
            "2025-04-01T00:00:00Z"
        ));
        let inc =
            "AND(YEAR({Created})=2025, IS_AFTER(LAST_MODIFIED_TIME(), '2025-03-31T00:00:00.000Z'))";
        assert!(check(inc, rec.clone(), "2025-04-01T00:00:00Z"));
        assert!(!check(inc, rec.clone(), "2025-03-30T00:00:00Z"));
        assert!(check(
            "IS_AFTER({Created}, '2025-01-01')",
            rec.clone(),
            "2025-04-01T00:00:00Z"
        ));
        assert!(!check(
            "YEAR({Created})=2025",
            json!({}),
            "2025-04-01T00:00:00Z"
        ));
    }

    #[test]
    fn logic_text_and_numbers() {
        let rec = json!({"Status": "New", "Rating": 4, "Tool": "Zed AI"});
        let t = "2025-04-01T00:00:00Z";
        assert!(check("{Status}='New'", rec.clone(), t));
        assert!(check("{Status}!=\"Closed\"", rec.clone(), t));
        assert!(check("OR({Rating}<2, {Rating}>=4)", rec.clone(), t));
        assert!(check("NOT({Rating}=5)", rec.clone(), t));
        assert!(check(
            "AND({Rating}<=4, {Rating}>3, {Tool}='Zed AI')",
            rec.clone(),
            t
        ));
        assert!(!check("AND({Rating}<4, TRUE())", rec.clone(), t));
        assert!(check("{Created}=''", rec.clone(), t));
        assert!(check("{Rating} <> 3", rec, t));
    }

    #[test]
    fn anything_else_is_refused_with_a_message() {
        let known = BTreeSet::from(["Created".to_owned()]);
        for (formula, says) in [
            ("SEARCH('x', {Created})", "unknown function SEARCH"),
            ("YEAR({Created}", "expected `,` or `)`"),
            ("{Nope}=1", "Unknown field names: nope"),
            ("YEAR({Created})=2025 AND", "unexpected `AND`"),
            ("'open", "a string is not closed"),
            ("YEAR()", "YEAR takes 1 argument(s), not 0"),
        ] {
            let err = Formula::parse(formula, &known).unwrap_err();
            assert!(err.contains(says), "{formula}: {err}");
        }
    }
}
