#[derive(Debug, PartialEq, Eq)]
pub enum CalcError {
    DivisionByZero,
    InvalidExpression,
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Token {
    Number(i64),
    Plus,
    Minus,
    Star,
    Slash,
    Open,
    Close,
}

fn tokenize(expr: &str) -> Result<Vec<Token>, CalcError> {
    let mut tokens = Vec::new();
    let mut chars = expr.chars().peekable();
    while let Some(c) = chars.next() {
        let token = match c {
            ' ' => continue,
            '+' => Token::Plus,
            '-' => Token::Minus,
            '*' => Token::Star,
            '/' => Token::Slash,
            '(' => Token::Open,
            ')' => Token::Close,
            '0'..='9' => {
                let mut value = i64::from(c.to_digit(10).unwrap_or(0));
                while let Some(digit) = chars.peek().and_then(|d| d.to_digit(10)) {
                    value = value
                        .checked_mul(10)
                        .and_then(|v| v.checked_add(i64::from(digit)))
                        .ok_or(CalcError::InvalidExpression)?;
                    chars.next();
                }
                Token::Number(value)
            }
            _ => return Err(CalcError::InvalidExpression),
        };
        tokens.push(token);
    }
    Ok(tokens)
}

struct Parser {
    tokens: Vec<Token>,
    pos: usize,
}

impl Parser {
    fn peek(&self) -> Option<Token> {
        self.tokens.get(self.pos).copied()
    }

    fn next(&mut self) -> Option<Token> {
        let token = self.peek();
        self.pos += 1;
        token
    }

    // expression := term (("+" | "-") term)*
    fn expression(&mut self) -> Result<i64, CalcError> {
        let mut value = self.term()?;
        while let Some(op @ (Token::Plus | Token::Minus)) = self.peek() {
            self.pos += 1;
            let rhs = self.term()?;
            value = if op == Token::Plus { value + rhs } else { value - rhs };
        }
        Ok(value)
    }

    // term := unary (("*" | "/") unary)*
    fn term(&mut self) -> Result<i64, CalcError> {
        let mut value = self.unary()?;
        while let Some(op @ (Token::Star | Token::Slash)) = self.peek() {
            self.pos += 1;
            let rhs = self.unary()?;
            value = if op == Token::Star {
                value * rhs
            } else if rhs == 0 {
                return Err(CalcError::DivisionByZero);
            } else {
                value / rhs
            };
        }
        Ok(value)
    }

    // unary := "-" unary | number | "(" expression ")"
    fn unary(&mut self) -> Result<i64, CalcError> {
        match self.next() {
            Some(Token::Minus) => Ok(-self.unary()?),
            Some(Token::Number(value)) => Ok(value),
            Some(Token::Open) => {
                let value = self.expression()?;
                match self.next() {
                    Some(Token::Close) => Ok(value),
                    _ => Err(CalcError::InvalidExpression),
                }
            }
            _ => Err(CalcError::InvalidExpression),
        }
    }
}

/// Evaluates an integer expression with + - * /, unary minus and parentheses.
pub fn evaluate(expr: &str) -> Result<i64, CalcError> {
    let tokens = tokenize(expr)?;
    let mut parser = Parser { tokens, pos: 0 };
    let value = parser.expression()?;
    if parser.pos != parser.tokens.len() {
        return Err(CalcError::InvalidExpression);
    }
    Ok(value)
}
