using System.Globalization;

namespace Quanta.Core.Templates;

/// <summary>
/// Recursive-descent parser from tokens to the AST, with @huggingface/jinja's grammar and
/// operator precedence (lowest first): ternary/select, or, and, not, comparison/in, + - ~,
/// * / // %, **, is-tests, filters, unary sign, call/member, primary.
/// </summary>
internal sealed class Parser
{
    private readonly List<Token> _tokens;
    private readonly SourceText _source;
    private int _current;

    private Parser(List<Token> tokens, SourceText source)
    {
        _tokens = tokens;
        _source = source;
    }

    public static TemplateProgram Parse(List<Token> tokens, SourceText source)
    {
        var p = new Parser(tokens, source);
        var body = new List<Node>();
        while (p._current < tokens.Count) body.Add(p.ParseAny());
        return new TemplateProgram(body);
    }

    private TemplateException Error(string message, Token? at = null)
    {
        at ??= _current < _tokens.Count ? _tokens[_current] : null;
        int offset = at?.Offset ?? _source.OriginalOffset(_source.Text.Length);
        var (line, col) = _source.Position(offset);
        return new TemplateException(at is null ? message + " (unexpected end of template)" : message, line, col);
    }

    private Token Peek()
    {
        if (_current >= _tokens.Count) throw Error("Unexpected end of template");
        return _tokens[_current];
    }

    private Token Expect(TokenType type, string message)
    {
        if (_current >= _tokens.Count) throw Error(message);
        var tok = _tokens[_current];
        if (tok.Type != type) throw Error($"{message}, got {tok.Type} '{tok.Value}'", tok);
        _current++;
        return tok;
    }

    private void ExpectIdentifier(string name)
    {
        if (!IsIdentifier(name)) throw Error($"Expected '{name}'");
        _current++;
    }

    private bool Is(params TokenType[] types)
    {
        if (_current + types.Length > _tokens.Count) return false;
        for (int i = 0; i < types.Length; i++) if (_tokens[_current + i].Type != types[i]) return false;
        return true;
    }

    private bool IsStatement(params string[] names)
    {
        if (_current + 1 >= _tokens.Count)
        {
            if (_current >= _tokens.Count) throw Error($"Unexpected end of template, expected {{% {string.Join(" / ", names)} %}}", _tokens.Count > 0 ? _tokens[^1] : null);
            return false;
        }
        return _tokens[_current].Type == TokenType.OpenStatement && _tokens[_current + 1].Type == TokenType.Identifier
            && names.Contains(_tokens[_current + 1].Value);
    }

    private bool IsIdentifier(params string[] names)
    {
        if (_current + names.Length > _tokens.Count) return false;
        for (int i = 0; i < names.Length; i++)
        {
            var t = _tokens[_current + i];
            if (t.Type != TokenType.Identifier || t.Value != names[i]) return false;
        }
        return true;
    }

    private Node ParseAny()
    {
        var tok = Peek();
        switch (tok.Type)
        {
            case TokenType.Comment:
                _current++;
                return new CommentNode(tok.Offset);
            case TokenType.Text:
                _current++;
                return new StringLiteralNode(tok.Offset, tok.Value);
            case TokenType.OpenStatement:
                return ParseStatement();
            case TokenType.OpenExpression:
            {
                _current++;
                var e = ParseExpression();
                Expect(TokenType.CloseExpression, "Expected closing expression token '}}'");
                return e;
            }
            default:
                throw Error($"Unexpected token {tok.Type} '{tok.Value}'", tok);
        }
    }

    private Node ParseStatement()
    {
        var open = Expect(TokenType.OpenStatement, "Expected opening statement token");
        var nameTok = Peek();
        if (nameTok.Type != TokenType.Identifier) throw Error($"Unknown statement, got {nameTok.Type}", nameTok);
        switch (nameTok.Value)
        {
            case "set":
                _current++;
                return ParseSet(open.Offset);
            case "if":
            {
                _current++;
                var r = ParseIf(open.Offset);
                Expect(TokenType.OpenStatement, "Expected {% token");
                ExpectIdentifier("endif");
                Expect(TokenType.CloseStatement, "Expected %} token");
                return r;
            }
            case "macro":
            {
                _current++;
                var nameNode = ParsePrimary();
                if (nameNode is not IdentifierNode id) throw Error("Expected identifier following macro statement", nameTok);
                var args = ParseArgs(parameters: true);
                Expect(TokenType.CloseStatement, "Expected closing statement token");
                var body = new List<Node>();
                while (!IsStatement("endmacro")) body.Add(ParseAny());
                Expect(TokenType.OpenStatement, "Expected {% token");
                ExpectIdentifier("endmacro");
                Expect(TokenType.CloseStatement, "Expected %} token");
                return new MacroNode(open.Offset, id, args, body);
            }
            case "for":
            {
                _current++;
                var r = ParseFor(open.Offset);
                Expect(TokenType.OpenStatement, "Expected {% token");
                ExpectIdentifier("endfor");
                Expect(TokenType.CloseStatement, "Expected %} token");
                return r;
            }
            case "call":
            {
                _current++;
                List<Node>? callerArgs = null;
                if (Is(TokenType.OpenParen)) callerArgs = ParseArgs(parameters: true);
                var callee = ParsePrimary();
                if (callee is not IdentifierNode) throw Error("Expected identifier following call statement", nameTok);
                var callArgs = ParseArgs(parameters: false);
                Expect(TokenType.CloseStatement, "Expected closing statement token");
                var body = new List<Node>();
                while (!IsStatement("endcall")) body.Add(ParseAny());
                Expect(TokenType.OpenStatement, "Expected '{%'");
                ExpectIdentifier("endcall");
                Expect(TokenType.CloseStatement, "Expected closing statement token");
                return new CallStatementNode(open.Offset, new CallNode(callee.Offset, callee, callArgs), callerArgs, body);
            }
            case "break":
                _current++;
                Expect(TokenType.CloseStatement, "Expected closing statement token");
                return new BreakNode(open.Offset);
            case "continue":
                _current++;
                Expect(TokenType.CloseStatement, "Expected closing statement token");
                return new ContinueNode(open.Offset);
            case "filter":
            {
                _current++;
                var filter = ParsePrimary();
                if (filter is IdentifierNode && Is(TokenType.OpenParen)) filter = ParseCall(filter);
                Expect(TokenType.CloseStatement, "Expected closing statement token");
                var body = new List<Node>();
                while (!IsStatement("endfilter")) body.Add(ParseAny());
                Expect(TokenType.OpenStatement, "Expected '{%'");
                ExpectIdentifier("endfilter");
                Expect(TokenType.CloseStatement, "Expected '%}'");
                return new FilterStatementNode(open.Offset, filter, body);
            }
            default:
                throw Error($"Unknown statement type: {nameTok.Value}", nameTok);
        }
    }

    private SetNode ParseSet(int offset)
    {
        var left = ParseExpressionSequence(primary: false);
        Node? value = null;
        var body = new List<Node>();
        if (Is(TokenType.Equals))
        {
            _current++;
            value = ParseExpressionSequence(primary: false);
        }
        else
        {
            Expect(TokenType.CloseStatement, "Expected %} token");
            while (!IsStatement("endset")) body.Add(ParseAny());
            Expect(TokenType.OpenStatement, "Expected {% token");
            ExpectIdentifier("endset");
        }
        Expect(TokenType.CloseStatement, "Expected closing statement token");
        return new SetNode(offset, left, value, body);
    }

    private IfNode ParseIf(int offset)
    {
        var test = ParseExpression();
        Expect(TokenType.CloseStatement, "Expected closing statement token");
        var body = new List<Node>();
        var alternate = new List<Node>();
        while (!IsStatement("elif", "else", "endif")) body.Add(ParseAny());
        if (IsStatement("elif"))
        {
            int elifOffset = _tokens[_current].Offset;
            _current += 2;
            alternate.Add(ParseIf(elifOffset));
        }
        else if (IsStatement("else"))
        {
            _current += 2;
            Expect(TokenType.CloseStatement, "Expected closing statement token");
            while (!IsStatement("endif")) alternate.Add(ParseAny());
        }
        return new IfNode(offset, test, body, alternate);
    }

    private Node ParseExpressionSequence(bool primary)
    {
        int offset = Peek().Offset;
        var first = primary ? ParsePrimary() : ParseExpression();
        if (!Is(TokenType.Comma)) return first;
        var items = new List<Node> { first };
        while (true)
        {
            _current++;
            items.Add(primary ? ParsePrimary() : ParseExpression());
            if (!Is(TokenType.Comma)) break;
        }
        return new TupleLiteralNode(offset, items);
    }

    private ForNode ParseFor(int offset)
    {
        var loopVar = ParseExpressionSequence(primary: true);
        if (loopVar is not (IdentifierNode or TupleLiteralNode))
            throw Error("Expected identifier/tuple for the loop variable");
        if (!IsIdentifier("in")) throw Error("Expected `in` keyword following loop variable");
        _current++;
        var iterable = ParseExpression();
        Expect(TokenType.CloseStatement, "Expected closing statement token");
        var body = new List<Node>();
        while (!IsStatement("endfor", "else")) body.Add(ParseAny());
        var alternative = new List<Node>();
        if (IsStatement("else"))
        {
            _current += 2;
            Expect(TokenType.CloseStatement, "Expected closing statement token");
            while (!IsStatement("endfor")) alternative.Add(ParseAny());
        }
        return new ForNode(offset, loopVar, iterable, body, alternative);
    }

    private Node ParseExpression() => ParseIfExpression();

    private Node ParseIfExpression()
    {
        var a = ParseLogicalOr();
        if (IsIdentifier("if"))
        {
            int offset = _tokens[_current].Offset;
            _current++;
            var test = ParseLogicalOr();
            if (IsIdentifier("else"))
            {
                _current++;
                var falseExpr = ParseIfExpression();
                return new TernaryNode(offset, test, a, falseExpr);
            }
            return new SelectNode(offset, a, test);
        }
        return a;
    }

    private Node ParseLogicalOr()
    {
        var left = ParseLogicalAnd();
        while (IsIdentifier("or"))
        {
            var op = _tokens[_current++];
            var right = ParseLogicalAnd();
            left = new BinaryNode(op.Offset, "or", left, right);
        }
        return left;
    }

    private Node ParseLogicalAnd()
    {
        var left = ParseLogicalNot();
        while (IsIdentifier("and"))
        {
            var op = _tokens[_current++];
            var right = ParseLogicalNot();
            left = new BinaryNode(op.Offset, "and", left, right);
        }
        return left;
    }

    private Node ParseLogicalNot()
    {
        Node? right = null;
        while (IsIdentifier("not"))
        {
            var op = _tokens[_current++];
            var arg = ParseLogicalNot();
            right = new UnaryNode(op.Offset, "not", arg);
        }
        return right ?? ParseComparison();
    }

    private Node ParseComparison()
    {
        var left = ParseAdditive();
        while (true)
        {
            string op;
            int offset;
            if (IsIdentifier("not", "in")) { op = "not in"; offset = _tokens[_current].Offset; _current += 2; }
            else if (IsIdentifier("in")) { op = "in"; offset = _tokens[_current++].Offset; }
            else if (Is(TokenType.ComparisonBinaryOperator)) { var t = _tokens[_current++]; op = t.Value; offset = t.Offset; }
            else break;
            var right = ParseAdditive();
            left = new BinaryNode(offset, op, left, right);
        }
        return left;
    }

    private Node ParseAdditive()
    {
        var left = ParseMultiplicative();
        while (Is(TokenType.AdditiveBinaryOperator))
        {
            var op = _tokens[_current++];
            var right = ParseMultiplicative();
            left = new BinaryNode(op.Offset, op.Value, left, right);
        }
        return left;
    }

    private Node ParseMultiplicative()
    {
        var left = ParsePower();
        while (Is(TokenType.MultiplicativeBinaryOperator))
        {
            var op = _tokens[_current++];
            var right = ParsePower();
            left = new BinaryNode(op.Offset, op.Value, left, right);
        }
        return left;
    }

    private Node ParsePower()
    {
        var left = ParseTest();
        while (Is(TokenType.ExponentiationBinaryOperator))
        {
            var op = _tokens[_current++];
            var right = ParseTest();
            left = new BinaryNode(op.Offset, op.Value, left, right);
        }
        return left;
    }

    private Node ParseTest()
    {
        var operand = ParseFilter();
        while (IsIdentifier("is"))
        {
            var isTok = _tokens[_current++];
            bool negate = IsIdentifier("not");
            if (negate) _current++;
            var test = ParsePrimary();
            if (test is not IdentifierNode id) throw Error("Expected identifier for the test", isTok);
            operand = new TestNode(isTok.Offset, operand, negate, id.Name);
        }
        return operand;
    }

    private Node ParseFilter()
    {
        var operand = ParseUnarySign();
        while (Is(TokenType.Pipe))
        {
            var pipe = _tokens[_current++];
            var filter = ParsePrimary();
            if (filter is not IdentifierNode) throw Error("Expected identifier for the filter", pipe);
            if (Is(TokenType.OpenParen)) filter = ParseCall(filter);
            operand = new FilterNode(pipe.Offset, operand, filter);
        }
        return operand;
    }

    private Node ParseUnarySign()
    {
        var tok = Peek();
        if ((tok.Type == TokenType.UnaryOperator || tok.Type == TokenType.AdditiveBinaryOperator) && (tok.Value == "-" || tok.Value == "+"))
        {
            _current++;
            var arg = ParseUnarySign();
            return new UnaryNode(tok.Offset, tok.Value, arg);
        }
        return ParseCallMember();
    }

    private Node ParseCallMember()
    {
        var member = ParseMember(ParsePrimary());
        return Is(TokenType.OpenParen) ? ParseCall(member) : member;
    }

    private Node ParseCall(Node callee)
    {
        int offset = _current < _tokens.Count ? _tokens[_current].Offset : callee.Offset;
        Node expression = new CallNode(offset, callee, ParseArgs(parameters: false));
        expression = ParseMember(expression);
        if (Is(TokenType.OpenParen)) expression = ParseCall(expression);
        return expression;
    }

    private List<Node> ParseArgs(bool parameters)
    {
        Expect(TokenType.OpenParen, "Expected opening parenthesis for arguments list");
        var args = new List<Node>();
        var names = new HashSet<string>(StringComparer.Ordinal);
        bool sawKeyword = false, sawSpread = false;
        while (!Is(TokenType.CloseParen))
        {
            var tok = Peek();
            bool isKwSpread = tok.Type == TokenType.ExponentiationBinaryOperator;
            bool isPosSpread = tok.Type == TokenType.MultiplicativeBinaryOperator && tok.Value == "*";
            if (parameters && (isKwSpread || isPosSpread)) throw Error("Argument unpacking is not allowed in parameter declarations", tok);
            if (isKwSpread)
            {
                _current++;
                args.Add(new KeywordSpreadNode(tok.Offset, ParseExpression()));
                if (Is(TokenType.Comma)) _current++;
                if (!Is(TokenType.CloseParen)) throw Error("Expected closing parenthesis: `**` must be applied to the final argument");
                break;
            }
            Node argument;
            if (isPosSpread)
            {
                if (sawSpread) throw Error("Only one `*` argument unpacking is allowed", tok);
                sawSpread = true;
                _current++;
                argument = new SpreadNode(tok.Offset, ParseExpression());
            }
            else
            {
                argument = ParseExpression();
                if (Is(TokenType.Equals))
                {
                    _current++;
                    if (argument is not IdentifierNode key)
                        throw Error(parameters ? "Expected identifier for parameter declaration" : "Expected identifier for keyword argument", tok);
                    argument = new KeywordArgumentNode(tok.Offset, key, ParseExpression());
                }
                if (parameters)
                {
                    string name = argument switch
                    {
                        IdentifierNode id => id.Name,
                        KeywordArgumentNode kw => kw.Key.Name,
                        _ => throw Error("Expected identifier for parameter declaration", tok),
                    };
                    if (!names.Add(name)) throw Error($"Duplicate parameter name: {name}", tok);
                }
                if (argument is KeywordArgumentNode) sawKeyword = true;
                else if (sawKeyword)
                    throw Error(parameters ? "Non-default argument follows default argument" : "Positional arguments must come before keyword arguments", tok);
                else if (sawSpread) throw Error("Positional arguments must not follow `*` argument unpacking", tok);
            }
            args.Add(argument);
            if (Is(TokenType.Comma)) _current++;
        }
        Expect(TokenType.CloseParen, "Expected closing parenthesis for arguments list");
        return args;
    }

    private Node ParseMemberArguments(int offset)
    {
        var slices = new List<Node?>();
        bool isSlice = false;
        while (!Is(TokenType.CloseSquareBracket))
        {
            if (Is(TokenType.Colon))
            {
                slices.Add(null);
                _current++;
                isSlice = true;
            }
            else
            {
                slices.Add(ParseExpression());
                if (Is(TokenType.Colon))
                {
                    _current++;
                    isSlice = true;
                }
            }
        }
        if (slices.Count == 0) throw Error("Expected at least one argument for member/slice expression");
        if (isSlice)
        {
            if (slices.Count > 3) throw Error("Expected 0-3 arguments for slice expression");
            return new SliceNode(offset, slices[0], slices.Count > 1 ? slices[1] : null, slices.Count > 2 ? slices[2] : null);
        }
        return slices[0]!;
    }

    private Node ParseMember(Node obj)
    {
        while (Is(TokenType.Dot) || Is(TokenType.OpenSquareBracket))
        {
            var op = _tokens[_current++];
            Node property;
            bool computed = op.Type == TokenType.OpenSquareBracket;
            if (computed)
            {
                property = ParseMemberArguments(op.Offset);
                Expect(TokenType.CloseSquareBracket, "Expected closing square bracket");
            }
            else
            {
                property = ParsePrimary();
                if (property is not (IdentifierNode or IntegerLiteralNode))
                    throw Error("Expected identifier or integer following dot operator", op);
            }
            obj = new MemberNode(op.Offset, obj, property, computed);
        }
        return obj;
    }

    private Node ParsePrimary()
    {
        var tok = Peek();
        _current++;
        switch (tok.Type)
        {
            case TokenType.NumericLiteral:
            {
                double v = double.Parse(tok.Value, NumberStyles.AllowLeadingSign | NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture);
                return tok.Value.Contains('.', StringComparison.Ordinal) ? new FloatLiteralNode(tok.Offset, v) : new IntegerLiteralNode(tok.Offset, v);
            }
            case TokenType.StringLiteral:
            {
                string value = tok.Value;
                while (Is(TokenType.StringLiteral)) value += _tokens[_current++].Value;
                return new StringLiteralNode(tok.Offset, value);
            }
            case TokenType.Identifier:
                return new IdentifierNode(tok.Offset, tok.Value);
            case TokenType.OpenParen:
            {
                var e = ParseExpressionSequence(primary: false);
                Expect(TokenType.CloseParen, "Expected closing parenthesis");
                return e;
            }
            case TokenType.OpenSquareBracket:
            {
                var items = new List<Node>();
                while (!Is(TokenType.CloseSquareBracket))
                {
                    if (_current >= _tokens.Count) throw Error("Expected ']'", tok);
                    items.Add(ParseExpression());
                    if (Is(TokenType.Comma)) _current++;
                }
                _current++;
                return new ArrayLiteralNode(tok.Offset, items);
            }
            case TokenType.OpenCurlyBracket:
            {
                var entries = new List<(Node, Node)>();
                while (!Is(TokenType.CloseCurlyBracket))
                {
                    if (_current >= _tokens.Count) throw Error("Expected '}'", tok);
                    var key = ParseExpression();
                    Expect(TokenType.Colon, "Expected colon between key and value in object literal");
                    var value = ParseExpression();
                    entries.Add((key, value));
                    if (Is(TokenType.Comma)) _current++;
                }
                _current++;
                return new ObjectLiteralNode(tok.Offset, entries);
            }
            default:
                throw Error($"Unexpected token {tok.Type} '{tok.Value}'", tok);
        }
    }
}
