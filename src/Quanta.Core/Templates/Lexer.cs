using System.Globalization;
using System.Text;

namespace Quanta.Core.Templates;

/// <summary>
/// Splits a preprocessed chat template into tokens, following @huggingface/jinja's tokenizer
/// (whitespace control, string escapes, signed numeric literals, curly-bracket depth in {{ }}).
/// </summary>
internal static class Lexer
{
    private static readonly (string Seq, TokenType Type)[] Table =
    [
        ("{%", TokenType.OpenStatement), ("%}", TokenType.CloseStatement),
        ("{{", TokenType.OpenExpression), ("}}", TokenType.CloseExpression),
        ("(", TokenType.OpenParen), (")", TokenType.CloseParen),
        ("{", TokenType.OpenCurlyBracket), ("}", TokenType.CloseCurlyBracket),
        ("[", TokenType.OpenSquareBracket), ("]", TokenType.CloseSquareBracket),
        (",", TokenType.Comma), (".", TokenType.Dot), (":", TokenType.Colon), ("|", TokenType.Pipe),
        ("<=", TokenType.ComparisonBinaryOperator), (">=", TokenType.ComparisonBinaryOperator),
        ("==", TokenType.ComparisonBinaryOperator), ("!=", TokenType.ComparisonBinaryOperator),
        ("<", TokenType.ComparisonBinaryOperator), (">", TokenType.ComparisonBinaryOperator),
        ("+", TokenType.AdditiveBinaryOperator), ("-", TokenType.AdditiveBinaryOperator), ("~", TokenType.AdditiveBinaryOperator),
        ("**", TokenType.ExponentiationBinaryOperator),
        ("*", TokenType.MultiplicativeBinaryOperator), ("//", TokenType.MultiplicativeBinaryOperator),
        ("/", TokenType.MultiplicativeBinaryOperator), ("%", TokenType.MultiplicativeBinaryOperator),
        ("=", TokenType.Equals),
    ];

    public static List<Token> Tokenize(SourceText source)
    {
        string src = source.Text;
        var tokens = new List<Token>();
        int pos = 0;
        int curlyDepth = 0;

        TemplateException Error(string message, int at)
        {
            var (line, col) = source.Position(source.OriginalOffset(at));
            return new TemplateException(message, line, col);
        }

        char At(int i) => i < src.Length ? src[i] : '\0';

        string ConsumeWhile(Func<char, bool> predicate)
        {
            var sb = new StringBuilder();
            while (pos < src.Length && predicate(src[pos]))
            {
                if (src[pos] == '\\')
                {
                    int escAt = pos;
                    ++pos;
                    if (pos >= src.Length) throw Error("Unexpected end of input", escAt);
                    char escaped = src[pos++];
                    if (escaped is 'x' or 'u')
                    {
                        int len = escaped == 'x' ? 2 : 4;
                        string hex = pos + len <= src.Length ? src.Substring(pos, len) : src[pos..];
                        if (hex.Length != len || !hex.All(Uri.IsHexDigit))
                            throw Error($"Invalid hexadecimal escape sequence: \\{escaped}{hex}", escAt);
                        sb.Append((char)int.Parse(hex, NumberStyles.HexNumber, CultureInfo.InvariantCulture));
                        pos += len;
                        continue;
                    }
                    char? unescaped = escaped switch
                    {
                        'n' => '\n', 't' => '\t', 'r' => '\r', 'b' => '\b', 'f' => '\f', 'v' => '\v',
                        '\'' => '\'', '"' => '"', '\\' => '\\', _ => null,
                    };
                    if (unescaped is null) throw Error($"Unexpected escaped character: {escaped}", escAt);
                    sb.Append(unescaped.Value);
                    continue;
                }
                sb.Append(src[pos++]);
                if (pos >= src.Length) throw Error("Unexpected end of input", pos - 1);
            }
            return sb.ToString();
        }

        void StripTrailingWhitespace()
        {
            if (tokens.Count > 0 && tokens[^1].Type == TokenType.Text)
            {
                tokens[^1].Value = JsText.TrimEnd(tokens[^1].Value);
                if (tokens[^1].Value.Length == 0) tokens.RemoveAt(tokens.Count - 1);
            }
        }

        void SkipLeadingWhitespace()
        {
            while (pos < src.Length && JsText.IsWhitespace(src[pos])) ++pos;
        }

        bool StartsAt(string s) => string.CompareOrdinal(src, pos, s, 0, s.Length) == 0 && pos + s.Length <= src.Length;

        while (pos < src.Length)
        {
            TokenType? last = tokens.Count > 0 ? tokens[^1].Type : null;
            if (last is null or TokenType.CloseStatement or TokenType.CloseExpression or TokenType.Comment)
            {
                int start = pos;
                while (pos < src.Length && !(src[pos] == '{' && (At(pos + 1) == '%' || At(pos + 1) == '{' || At(pos + 1) == '#')))
                    pos++;
                if (pos > start)
                {
                    tokens.Add(new Token(src[start..pos], TokenType.Text, source.OriginalOffset(start)));
                    continue;
                }
            }

            if (src[pos] == '{' && At(pos + 1) == '#')
            {
                int open = pos;
                pos += 2;
                bool stripBefore = At(pos) == '-';
                if (stripBefore) ++pos;
                var comment = new StringBuilder();
                while (At(pos) != '#' || At(pos + 1) != '}')
                {
                    if (pos + 2 >= src.Length) throw Error("Missing end of comment tag", open);
                    comment.Append(src[pos++]);
                }
                string text = comment.ToString();
                bool stripAfter = text.EndsWith('-');
                if (stripAfter) text = text[..^1];
                if (stripBefore) StripTrailingWhitespace();
                tokens.Add(new Token(text, TokenType.Comment, source.OriginalOffset(open)));
                pos += 2;
                if (stripAfter) SkipLeadingWhitespace();
                continue;
            }

            if (StartsAt("{%-"))
            {
                StripTrailingWhitespace();
                tokens.Add(new Token("{%", TokenType.OpenStatement, source.OriginalOffset(pos)));
                pos += 3;
                continue;
            }
            if (StartsAt("{{-"))
            {
                StripTrailingWhitespace();
                tokens.Add(new Token("{{", TokenType.OpenExpression, source.OriginalOffset(pos)));
                curlyDepth = 0;
                pos += 3;
                continue;
            }

            ConsumeWhile(JsText.IsWhitespace);
            if (pos >= src.Length) break;

            if (StartsAt("-%}"))
            {
                tokens.Add(new Token("%}", TokenType.CloseStatement, source.OriginalOffset(pos)));
                pos += 3;
                SkipLeadingWhitespace();
                continue;
            }
            if (StartsAt("-}}"))
            {
                tokens.Add(new Token("}}", TokenType.CloseExpression, source.OriginalOffset(pos)));
                pos += 3;
                SkipLeadingWhitespace();
                continue;
            }

            char ch = src[pos];
            if (ch is '-' or '+')
            {
                TokenType? lt = tokens.Count > 0 ? tokens[^1].Type : null;
                if (lt is null or TokenType.Text) throw Error($"Unexpected character: {ch}", pos);
                if (lt is not (TokenType.Identifier or TokenType.NumericLiteral or TokenType.StringLiteral
                    or TokenType.CloseParen or TokenType.CloseSquareBracket))
                {
                    int start = pos;
                    ++pos;
                    string num = ConsumeWhile(JsText.IsDigit);
                    if (num.Length > 0 && At(pos) == '.' && JsText.IsDigit(At(pos + 1)))
                    {
                        ++pos;
                        num = num + "." + ConsumeWhile(JsText.IsDigit);
                    }
                    tokens.Add(new Token(ch + num, num.Length > 0 ? TokenType.NumericLiteral : TokenType.UnaryOperator, source.OriginalOffset(start)));
                    continue;
                }
            }

            bool matched = false;
            foreach (var (seq, type) in Table)
            {
                if (seq == "}}" && curlyDepth > 0) continue;
                if (StartsAt(seq))
                {
                    tokens.Add(new Token(seq, type, source.OriginalOffset(pos)));
                    if (type == TokenType.OpenExpression) curlyDepth = 0;
                    else if (type == TokenType.OpenCurlyBracket) ++curlyDepth;
                    else if (type == TokenType.CloseCurlyBracket) --curlyDepth;
                    pos += seq.Length;
                    matched = true;
                    break;
                }
            }
            if (matched) continue;

            if (ch is '\'' or '"')
            {
                int start = pos;
                ++pos;
                string str = ConsumeWhile(c => c != ch);
                if (pos >= src.Length) throw Error("Unterminated string literal", start);
                tokens.Add(new Token(str, TokenType.StringLiteral, source.OriginalOffset(start)));
                ++pos;
                continue;
            }
            if (JsText.IsDigit(ch))
            {
                int start = pos;
                string num = ConsumeWhile(JsText.IsDigit);
                if ((tokens.Count == 0 || tokens[^1].Type != TokenType.Dot) && At(pos) == '.' && JsText.IsDigit(At(pos + 1)))
                {
                    ++pos;
                    num = num + "." + ConsumeWhile(JsText.IsDigit);
                }
                tokens.Add(new Token(num, TokenType.NumericLiteral, source.OriginalOffset(start)));
                continue;
            }
            if (JsText.IsWordChar(ch))
            {
                int start = pos;
                string word = ConsumeWhile(JsText.IsWordChar);
                tokens.Add(new Token(word, TokenType.Identifier, source.OriginalOffset(start)));
                continue;
            }
            throw Error($"Unexpected character: {ch}", pos);
        }
        return tokens;
    }
}
