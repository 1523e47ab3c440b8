//! Error messages with positions, and the nesting limits checked before parsing.

use super::*;

/// Deepest nesting, and most prefix or chained operators, a filter may use:
/// the parser, the compiler and the evaluator recurse over the expression,
/// so an absurdly deep one must be refused before it can exhaust a stack.
pub(super) const MAX_NESTING: usize = 40;
pub(super) const MAX_CHAINED: usize = 200;

/// Refuses deep nesting before parsing; counts outside quoted strings and
/// identifiers.
pub(super) fn check_nesting(text: &str) -> Result<(), FilterError> {
    let (mut depth, mut deepest, mut nots, mut comparisons, mut negations) = (0usize, 0, 0, 0, 0);
    let mut chars = text.char_indices().peekable();
    let too_deep = |what: &str| {
        FilterError(format!(
            "filter: too deeply nested ({what}); at most {MAX_NESTING} levels"
        ))
    };
    while let Some((_, c)) = chars.next() {
        match c {
            '\'' | '"' => {
                // Skip the quoted run; a doubled quote stays inside it.
                while let Some((_, d)) = chars.next() {
                    if d == c {
                        if chars.peek().is_some_and(|&(_, n)| n == c) {
                            chars.next();
                        } else {
                            break;
                        }
                    }
                }
            }
            '(' => {
                depth += 1;
                deepest = deepest.max(depth);
            }
            ')' => depth = depth.saturating_sub(1),
            '=' | '<' | '>' => comparisons += 1,
            '-' if !chars
                .peek()
                .is_some_and(|&(_, n)| n.is_ascii_digit() || n == '.') =>
            {
                negations += 1
            }
            c if c.is_alphabetic() => {
                let mut word = String::from(c);
                while let Some(&(_, n)) = chars.peek() {
                    if n.is_alphanumeric() || matches!(n, '_' | '.' | ':') {
                        word.push(n);
                        chars.next();
                    } else {
                        break;
                    }
                }
                if word.eq_ignore_ascii_case("not") {
                    nots += 1;
                }
            }
            _ => {}
        }
    }
    if deepest > MAX_NESTING {
        return Err(too_deep("parentheses"));
    }
    if nots > MAX_NESTING || negations > MAX_NESTING {
        return Err(too_deep("NOT or minus signs"));
    }
    if comparisons > MAX_CHAINED {
        return Err(FilterError(format!(
            "filter: more than {MAX_CHAINED} comparisons; use IN for long lists"
        )));
    }
    Ok(())
}

/// `line 1, column 7` for a 1-based line and column.
pub(super) fn place(line: usize, col: usize) -> String {
    if line == 1 {
        format!("column {col}")
    } else {
        format!("line {line}, column {col}")
    }
}

/// A 400 for a filter the grammar refused, pointing at the place and
/// saying what could have come there.
pub(super) fn syntax_error(text: &str, e: cql2::Error) -> FilterError {
    let cql2::Error::Pest(p) = e else {
        return FilterError(format!("filter: {e}"));
    };
    let (line, col) = match p.line_col {
        LineColLocation::Pos(at) | LineColLocation::Span(at, _) => at,
    };
    let offset = match p.location {
        pest::error::InputLocation::Pos(o) | pest::error::InputLocation::Span((o, _)) => o,
    };
    let rest = text.get(offset..).unwrap_or("");
    let found = if rest.is_empty() {
        "the end of the filter".to_string()
    } else {
        let near: String = rest.chars().take(20).collect();
        format!("{near:?}")
    };
    let expected = match &p.variant {
        ErrorVariant::ParsingError { positives, .. } => {
            let mut names: Vec<String> = positives
                .iter()
                .map(|r| rule_name(&format!("{r:?}")).to_string())
                .collect();
            let mut seen = std::collections::HashSet::new();
            names.retain(|n| seen.insert(n.clone()));
            if names.is_empty() {
                "a valid expression".to_string()
            } else {
                names.join(", ")
            }
        }
        ErrorVariant::CustomError { message } => message.clone(),
    };
    FilterError(format!(
        "filter: syntax error at {}: expected {expected}; found {found}",
        place(line, col)
    ))
}

/// What a grammar rule of the `cql2` crate means to someone writing a filter.
pub(super) fn rule_name(rule: &str) -> &str {
    match rule {
        "Expr" | "ExprAtomValue" | "BetweenOperand" => "an expression",
        "Identifier" => "a property name",
        "SingleQuotedString" => "a 'quoted string'",
        "DECIMAL" | "Double" | "Integer" => "a number",
        "GEOMETRY" => "a WKT geometry",
        "Function" => "a function call",
        "EOI" => "the end of the filter",
        "And" => "AND",
        "Or" => "OR",
        "Eq" => "=",
        "NotEq" => "<>",
        "Lt" => "<",
        "LtEq" => "<=",
        "Gt" => ">",
        "GtEq" => ">=",
        "Like" => "LIKE",
        "In" => "IN",
        "IsNullPostfix" => "IS NULL",
        "BetweenPostfix" => "BETWEEN",
        "UnaryNot" | "NotFlag" => "NOT",
        "Negative" => "-",
        "True" => "TRUE",
        "False" => "FALSE",
        "Null" => "NULL",
        "ExpressionInParentheses" => "(expression)",
        "Array" => "(list)",
        "Add" | "Subtract" | "Multiply" | "Divide" | "Modulo" | "Power" => "an arithmetic operator",
        other => other,
    }
}

/// Line and column (1-based, in characters) where `name` first appears in
/// `text` as a property name: a bare word or a "quoted" identifier, not
/// inside a 'string'.
pub(super) fn word_position(text: &str, name: &str) -> Option<(usize, usize)> {
    let (mut line, mut col) = (1, 0);
    let mut chars = text.chars().peekable();
    let mut word = String::new();
    let mut start = (1, 1);
    let mut quote: Option<char> = None;
    while let Some(c) = chars.next() {
        col += 1;
        if c == '\n' {
            line += 1;
            col = 0;
        }
        if let Some(q) = quote {
            if c == q {
                if chars.peek() == Some(&q) {
                    chars.next();
                    col += 1;
                    word.push(q);
                    continue;
                }
                quote = None;
                if q == '"' && word == name {
                    return Some(start);
                }
                word.clear();
            } else if q == '"' {
                word.push(c);
            }
            continue;
        }
        if c.is_alphanumeric() || matches!(c, '_' | '.' | ':') {
            if word.is_empty() {
                start = (line, col);
            }
            word.push(c);
            continue;
        }
        if word == name {
            return Some(start);
        }
        word.clear();
        if c == '\'' || c == '"' {
            quote = Some(c);
            start = (line, col);
        }
    }
    (word == name && quote.is_none()).then_some(start)
}
