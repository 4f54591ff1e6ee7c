//! Header values that name environment variables as `${NAME}`, resolved when a run starts so
//! that secrets stay out of the database. `$$` writes a literal `$`; any other `$` is literal.
//!
//! Nothing here prints a value: not the template's literal text (it may be a secret written
//! inline) and not what a variable resolves to. Errors and `Debug` name variables only.

use std::fmt;

/// A header value with `${NAME}` references.
#[derive(Clone, PartialEq, Eq)]
pub(crate) struct ValueTemplate {
    parts: Vec<Part>,
}

#[derive(Clone, PartialEq, Eq)]
enum Part {
    Literal(String),
    Variable(String),
}

/// Why a template does not parse. The messages quote no part of the value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum TemplateError {
    Unterminated,
    EmptyName,
    InvalidName,
}

impl fmt::Display for TemplateError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            TemplateError::Unterminated => {
                "`${` without a closing `}` (write `$$` for a literal `$`)"
            }
            TemplateError::EmptyName => "`${}` names no environment variable",
            TemplateError::InvalidName => {
                "an environment variable name in `${…}` may hold only letters, digits and `_`, and \
                 may not start with a digit"
            }
        })
    }
}

impl ValueTemplate {
    pub(crate) fn parse(text: &str) -> Result<ValueTemplate, TemplateError> {
        let mut parts = Vec::new();
        let mut literal = String::new();
        let mut rest = text;
        while let Some(dollar) = rest.find('$') {
            literal.push_str(&rest[..dollar]);
            let after = &rest[dollar + 1..];
            if let Some(after) = after.strip_prefix('$') {
                literal.push('$');
                rest = after;
            } else if let Some(after) = after.strip_prefix('{') {
                let end = after.find('}').ok_or(TemplateError::Unterminated)?;
                let name = &after[..end];
                check_name(name)?;
                if !literal.is_empty() {
                    parts.push(Part::Literal(std::mem::take(&mut literal)));
                }
                parts.push(Part::Variable(name.to_owned()));
                rest = &after[end + 1..];
            } else {
                literal.push('$');
                rest = after;
            }
        }
        literal.push_str(rest);
        if !literal.is_empty() {
            parts.push(Part::Literal(literal));
        }
        Ok(ValueTemplate { parts })
    }

    /// The variables referenced, in order of appearance.
    pub(crate) fn variables(&self) -> impl Iterator<Item = &str> {
        self.parts.iter().filter_map(|part| match part {
            Part::Variable(name) => Some(name.as_str()),
            Part::Literal(_) => None,
        })
    }

    /// The value with each variable replaced by `lookup(name)`, or the names of the variables
    /// `lookup` has no value for.
    pub(crate) fn resolve(
        &self,
        lookup: impl Fn(&str) -> Option<String>,
    ) -> Result<String, Vec<String>> {
        let mut value = String::new();
        let mut missing = Vec::new();
        for part in &self.parts {
            match part {
                Part::Literal(text) => value.push_str(text),
                Part::Variable(name) => match lookup(name) {
                    Some(found) => value.push_str(&found),
                    None => missing.push(name.clone()),
                },
            }
        }
        if missing.is_empty() {
            Ok(value)
        } else {
            Err(missing)
        }
    }
}

/// Letters, digits and `_`, not starting with a digit: what a shell accepts.
fn check_name(name: &str) -> Result<(), TemplateError> {
    let mut chars = name.chars();
    match chars.next() {
        None => Err(TemplateError::EmptyName),
        Some(first) if first.is_ascii_digit() => Err(TemplateError::InvalidName),
        Some(_) if name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') => Ok(()),
        Some(_) => Err(TemplateError::InvalidName),
    }
}

impl fmt::Debug for ValueTemplate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ValueTemplate")
            .field("variables", &self.variables().collect::<Vec<_>>())
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;

    fn env(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let map: BTreeMap<String, String> = pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        move |name| map.get(name).cloned()
    }

    #[test]
    fn substitutes_variables_between_literals() {
        let template = ValueTemplate::parse("Bearer ${TOKEN}; id=${ID}").unwrap();
        assert_eq!(template.variables().collect::<Vec<_>>(), ["TOKEN", "ID"]);
        let value = template.resolve(env(&[("TOKEN", "t0k"), ("ID", "7")]));
        assert_eq!(value, Ok("Bearer t0k; id=7".to_owned()));
    }

    #[test]
    fn dollars_are_literal_unless_they_open_a_reference() {
        let template = ValueTemplate::parse("cost $5, $${NOT_A_VAR} $").unwrap();
        assert_eq!(template.variables().count(), 0);
        assert_eq!(
            template.resolve(env(&[])),
            Ok("cost $5, ${NOT_A_VAR} $".to_owned())
        );
    }

    #[test]
    fn lists_every_missing_variable() {
        let template = ValueTemplate::parse("${A}:${B}:${C}").unwrap();
        assert_eq!(
            template.resolve(env(&[("B", "b")])),
            Err(vec!["A".to_owned(), "C".to_owned()])
        );
    }

    #[test]
    fn refuses_malformed_references() {
        assert_eq!(
            ValueTemplate::parse("x ${TOKEN"),
            Err(TemplateError::Unterminated)
        );
        assert_eq!(ValueTemplate::parse("${}"), Err(TemplateError::EmptyName));
        assert_eq!(
            ValueTemplate::parse("${1A}"),
            Err(TemplateError::InvalidName)
        );
        assert_eq!(
            ValueTemplate::parse("${A-B}"),
            Err(TemplateError::InvalidName)
        );
    }

    #[test]
    fn debug_shows_variable_names_but_no_text() {
        let template = ValueTemplate::parse("hunter2-${TOKEN}").unwrap();
        let debug = format!("{template:?}");
        assert!(debug.contains("TOKEN"), "{debug}");
        assert!(!debug.contains("hunter2"), "{debug}");
    }
}
