use calc_eval::{evaluate, CalcError};

#[test]
fn precedence_and_parentheses() {
    assert_eq!(evaluate("2 + 3 * 4"), Ok(14));
    assert_eq!(evaluate("(2 + 3) * 4"), Ok(20));
    assert_eq!(evaluate("2*(3+4)*5"), Ok(70));
    assert_eq!(evaluate(" ((7)) "), Ok(7));
    assert_eq!(evaluate("1000000 * 1000000"), Ok(1_000_000_000_000));
}

#[test]
fn equal_precedence_is_left_to_right() {
    assert_eq!(evaluate("10 - 4 - 3"), Ok(3));
    assert_eq!(evaluate("100 / 10 / 5"), Ok(2));
    assert_eq!(evaluate("2 - 3 + 4"), Ok(3));
}

#[test]
fn unary_minus_and_truncating_division() {
    assert_eq!(evaluate("-5"), Ok(-5));
    assert_eq!(evaluate("--3"), Ok(3));
    assert_eq!(evaluate("-(2 + 1)"), Ok(-3));
    assert_eq!(evaluate("7 * -2"), Ok(-14));
    assert_eq!(evaluate("7 / -2"), Ok(-3));
    assert_eq!(evaluate("-(4 - 10) / 4"), Ok(1));
}

#[test]
fn division_by_zero() {
    assert_eq!(evaluate("1 / 0"), Err(CalcError::DivisionByZero));
    assert_eq!(evaluate("5 / (2 - 2)"), Err(CalcError::DivisionByZero));
}

#[test]
fn malformed_expressions() {
    for expr in ["", "   ", "2 +", "* 3", "(1 + 2", "1 + 2)", "()", "2 $ 3", "1 2", "4 (5)"] {
        assert_eq!(evaluate(expr), Err(CalcError::InvalidExpression), "{expr:?}");
    }
}
