//! Prints the label and score of each line of standard input.
fn main() {
    let analyzer = tidings_sentiment::Analyzer::shared();
    for line in std::io::stdin().lines().map_while(Result::ok) {
        let s = analyzer.analyze(&line);
        println!("{:>8} {:+.4}  {line}", s.label.as_str(), s.score);
    }
}
