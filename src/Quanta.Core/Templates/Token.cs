namespace Quanta.Core.Templates;

/// <summary>Token kinds of the chat-template lexer (same set as @huggingface/jinja).</summary>
internal enum TokenType
{
    Text,
    NumericLiteral,
    StringLiteral,
    Identifier,
    Equals,
    OpenParen,
    CloseParen,
    OpenStatement,
    CloseStatement,
    OpenExpression,
    CloseExpression,
    OpenSquareBracket,
    CloseSquareBracket,
    OpenCurlyBracket,
    CloseCurlyBracket,
    Comma,
    Dot,
    Colon,
    Pipe,
    AdditiveBinaryOperator,
    MultiplicativeBinaryOperator,
    ExponentiationBinaryOperator,
    ComparisonBinaryOperator,
    UnaryOperator,
    Comment,
}

/// <summary>One lexer token: its (unescaped) value, kind and offset in the original source.</summary>
internal sealed class Token(string value, TokenType type, int offset)
{
    public string Value { get; set; } = value;
    public TokenType Type { get; } = type;
    public int Offset { get; } = offset;
}
