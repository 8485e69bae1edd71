namespace Quanta.Engine.Sampling;

/// <summary>
/// An incremental recognizer of JSON text (RFC 8259) over UTF-8 bytes, small enough to copy at every step of a
/// vocabulary walk: <see cref="Feed"/> takes one byte and says whether the text so far can still be the start of a
/// valid JSON text; <see cref="IsComplete"/> says whether it already is one.
/// <para>What it accepts: objects, arrays, strings (the escapes \" \\ \/ \b \f \n \r \t and \uXXXX; raw bytes
/// ≥ 0x20 forming well-formed UTF-8: no overlong forms, no surrogates, nothing above U+10FFFF), numbers
/// (<c>-? (0 | [1-9][0-9]*) (.[0-9]+)? ([eE][+-]?[0-9]+)?</c>), true, false, null, and the four whitespace bytes.
/// Two limits keep generation finite and parsers happy: nesting depth at most <see cref="MaxDepth"/>, and at most
/// <see cref="MaxWhitespaceRun"/> whitespace bytes in a row. An escaped lone surrogate (\uD800) is accepted, as the RFC's
/// grammar does. With <c>objectOnly</c> the top-level value must be an object (OpenAI's json_object mode).</para>
/// <para>A value type with no references: copying it forks the recognizer. Equal states accept exactly the same
/// continuations, so the state is a valid cache key for "which tokens may come next".</para>
/// </summary>
public record struct JsonGrammarState
{
    /// <summary>Deepest nesting of objects and arrays accepted.</summary>
    public const int MaxDepth = 32;

    /// <summary>Most whitespace bytes accepted in a row.</summary>
    public const int MaxWhitespaceRun = 16;

    private enum Mode : byte
    {
        Value,          // a value must come (top level, after ':' or after ',' in an array)
        ArrayFirst,     // after '[': a value or ']'
        ObjectFirst,    // after '{': a key or '}'
        Key,            // after ',' in an object: a key
        Colon,          // after a key: ':'
        AfterValue,     // after a value inside a container: ',' or the closer
        Done,           // a complete top-level value: whitespace only
        String,         // inside a string (key or value)
        Escape,         // after '\'
        Unicode,        // inside \uXXXX (Sub = hex digits read)
        Minus,          // '-': a digit must follow
        Zero,           // a leading 0
        Integer,        // integer digits
        Dot,            // '.': a digit must follow
        Fraction,       // fraction digits
        Exponent,       // 'e': a sign or digit must follow
        ExponentSign,   // 'e+': a digit must follow
        ExponentDigits, // exponent digits
        Literal,        // inside true/false/null (Sub = literal, Index = bytes matched)
        Failed,
    }

    private ulong _stack;       // bit i = 1: container at depth i+1 is an object
    private Mode _mode;
    private byte _depth;
    private byte _ws;           // whitespace bytes in the current run
    private byte _sub;          // Unicode: hex digits read; Literal: 0 true, 1 false, 2 null
    private byte _index;        // Literal: bytes matched
    private byte _utf8Need;     // String: continuation bytes still due
    private byte _utf8Lo, _utf8Hi;   // String: range of the next continuation byte
    private bool _inKey;        // String/Escape/Unicode: this string is an object key
    private bool _objectOnly;

    private static ReadOnlySpan<byte> True => "true"u8;
    private static ReadOnlySpan<byte> False => "false"u8;
    private static ReadOnlySpan<byte> Null => "null"u8;

    /// <summary>The state before any byte; <paramref name="objectOnly"/>: the top-level value must be an object.</summary>
    public static JsonGrammarState Start(bool objectOnly) => new() { _mode = Mode.Value, _objectOnly = objectOnly };

    /// <summary>True once a byte was refused; every later <see cref="Feed"/> returns false.</summary>
    public readonly bool IsFailed => _mode == Mode.Failed;

    /// <summary>
    /// True when the bytes so far form a complete JSON text (a top-level number counts as complete, though more
    /// digits could follow).
    /// </summary>
    public readonly bool IsComplete => _mode == Mode.Done
        || (_depth == 0 && _mode is Mode.Zero or Mode.Integer or Mode.Fraction or Mode.ExponentDigits);

    /// <summary>True when the top-level value is finished: only whitespace may follow.</summary>
    public readonly bool IsDone => _mode == Mode.Done;

    /// <summary>True inside a string (after its opening quote, before its closing one).</summary>
    public readonly bool InString => _mode is Mode.String or Mode.Escape or Mode.Unicode;

    /// <summary>
    /// True inside a string with no escape or UTF-8 sequence pending: every byte 0x20..0x7F other than '"' and '\'
    /// is then accepted and leaves the state unchanged (the vocabulary walk's fast path).
    /// </summary>
    internal readonly bool InPlainString => _mode == Mode.String && _utf8Need == 0;

    /// <summary>Current nesting depth (0 at the top level).</summary>
    public readonly int Depth => _depth;

    /// <summary>Feeds every byte of <paramref name="bytes"/>; false as soon as one is refused.</summary>
    public bool Feed(ReadOnlySpan<byte> bytes)
    {
        foreach (byte b in bytes) if (!Feed(b)) return false;
        return true;
    }

    /// <summary>Feeds one byte; false (and <see cref="IsFailed"/>) when no valid JSON text continues with it.</summary>
    public bool Feed(byte b)
    {
        bool ok = Step(b);
        if (!ok) _mode = Mode.Failed;
        return ok;
    }

    private bool Step(byte b)
    {
        switch (_mode)
        {
            case Mode.String:
                if (_utf8Need > 0)
                {
                    if (b < _utf8Lo || b > _utf8Hi) return false;
                    if (--_utf8Need == 0) _utf8Lo = _utf8Hi = 0;
                    else { _utf8Lo = 0x80; _utf8Hi = 0xBF; }
                    return true;
                }
                if (b == (byte)'"') { _mode = _inKey ? Mode.Colon : AfterValueMode(); _inKey = false; return true; }
                if (b == (byte)'\\') { _mode = Mode.Escape; return true; }
                if (b < 0x20) return false;
                if (b < 0x80) return true;
                return StartUtf8(b);
            case Mode.Escape:
                switch (b)
                {
                    case (byte)'"' or (byte)'\\' or (byte)'/' or (byte)'b' or (byte)'f' or (byte)'n' or (byte)'r' or (byte)'t':
                        _mode = Mode.String;
                        return true;
                    case (byte)'u':
                        _mode = Mode.Unicode;
                        _sub = 0;
                        return true;
                    default:
                        return false;
                }
            case Mode.Unicode:
                if (!IsHex(b)) return false;
                if (++_sub == 4) { _sub = 0; _mode = Mode.String; }
                return true;
            case Mode.Minus:
                if (b == (byte)'0') { _mode = Mode.Zero; return true; }
                if (IsDigit19(b)) { _mode = Mode.Integer; return true; }
                return false;
            case Mode.Zero:
                if (b == (byte)'.') { _mode = Mode.Dot; return true; }
                if (b is (byte)'e' or (byte)'E') { _mode = Mode.Exponent; return true; }
                return EndNumber(b);
            case Mode.Integer:
                if (IsDigit(b)) return true;
                if (b == (byte)'.') { _mode = Mode.Dot; return true; }
                if (b is (byte)'e' or (byte)'E') { _mode = Mode.Exponent; return true; }
                return EndNumber(b);
            case Mode.Dot:
                if (!IsDigit(b)) return false;
                _mode = Mode.Fraction;
                return true;
            case Mode.Fraction:
                if (IsDigit(b)) return true;
                if (b is (byte)'e' or (byte)'E') { _mode = Mode.Exponent; return true; }
                return EndNumber(b);
            case Mode.Exponent:
                if (b is (byte)'+' or (byte)'-') { _mode = Mode.ExponentSign; return true; }
                if (!IsDigit(b)) return false;
                _mode = Mode.ExponentDigits;
                return true;
            case Mode.ExponentSign:
                if (!IsDigit(b)) return false;
                _mode = Mode.ExponentDigits;
                return true;
            case Mode.ExponentDigits:
                if (IsDigit(b)) return true;
                return EndNumber(b);
            case Mode.Literal:
            {
                ReadOnlySpan<byte> lit = _sub switch { 0 => True, 1 => False, _ => Null };
                if (b != lit[_index]) return false;
                if (++_index == lit.Length) { _mode = AfterValueMode(); _index = _sub = 0; }
                return true;
            }
            case Mode.Failed:
                return false;
            default:
                return Structural(b);
        }
    }

    // modes between tokens: whitespace, then the structural byte the mode expects
    private bool Structural(byte b)
    {
        if (b is (byte)' ' or (byte)'\t' or (byte)'\n' or (byte)'\r')
        {
            if (_ws >= MaxWhitespaceRun) return false;
            _ws++;
            return true;
        }
        _ws = 0;
        switch (_mode)
        {
            case Mode.Value:
                return BeginValue(b);
            case Mode.ArrayFirst:
                if (b == (byte)']') return Close();
                return BeginValue(b);
            case Mode.ObjectFirst:
                if (b == (byte)'}') return Close();
                return BeginKey(b);
            case Mode.Key:
                return BeginKey(b);
            case Mode.Colon:
                if (b != (byte)':') return false;
                _mode = Mode.Value;
                return true;
            case Mode.AfterValue:
            {
                bool inObject = TopIsObject;
                if (b == (byte)',') { _mode = inObject ? Mode.Key : Mode.Value; return true; }
                if (b == (byte)(inObject ? '}' : ']')) return Close();
                return false;
            }
            default:   // Done: only whitespace
                return false;
        }
    }

    private bool BeginKey(byte b)
    {
        if (b != (byte)'"') return false;
        _mode = Mode.String;
        _inKey = true;
        return true;
    }

    private bool BeginValue(byte b)
    {
        if (_depth == 0 && _objectOnly && b != (byte)'{') return false;
        switch (b)
        {
            case (byte)'{':
            case (byte)'[':
                if (_depth >= MaxDepth) return false;
                if (b == (byte)'{') _stack |= 1UL << _depth;
                else _stack &= ~(1UL << _depth);
                _depth++;
                _mode = b == (byte)'{' ? Mode.ObjectFirst : Mode.ArrayFirst;
                return true;
            case (byte)'"':
                _mode = Mode.String;
                _inKey = false;
                return true;
            case (byte)'-':
                _mode = Mode.Minus;
                return true;
            case (byte)'0':
                _mode = Mode.Zero;
                return true;
            case (byte)'t' or (byte)'f' or (byte)'n':
                _mode = Mode.Literal;
                _sub = b == (byte)'t' ? (byte)0 : b == (byte)'f' ? (byte)1 : (byte)2;
                _index = 1;
                return true;
            default:
                if (!IsDigit19(b)) return false;
                _mode = Mode.Integer;
                return true;
        }
    }

    private bool Close()
    {
        _depth--;
        _stack &= ~(1UL << _depth);   // canonical: no stale bits above the depth (the state is a cache key)
        _mode = AfterValueMode();
        return true;
    }

    // a number ended at a byte that is not part of it: that byte continues in the enclosing context
    private bool EndNumber(byte b)
    {
        _mode = AfterValueMode();
        return Structural(b);
    }

    private readonly Mode AfterValueMode() => _depth == 0 ? Mode.Done : Mode.AfterValue;

    private readonly bool TopIsObject => (_stack >> (_depth - 1) & 1) != 0;

    private bool StartUtf8(byte b)
    {
        // RFC 3629 table: the allowed range of the first continuation byte depends on the lead byte
        switch (b)
        {
            case >= 0xC2 and <= 0xDF: _utf8Need = 1; _utf8Lo = 0x80; _utf8Hi = 0xBF; return true;
            case 0xE0: _utf8Need = 2; _utf8Lo = 0xA0; _utf8Hi = 0xBF; return true;
            case 0xED: _utf8Need = 2; _utf8Lo = 0x80; _utf8Hi = 0x9F; return true;
            case >= 0xE1 and <= 0xEF: _utf8Need = 2; _utf8Lo = 0x80; _utf8Hi = 0xBF; return true;
            case 0xF0: _utf8Need = 3; _utf8Lo = 0x90; _utf8Hi = 0xBF; return true;
            case >= 0xF1 and <= 0xF3: _utf8Need = 3; _utf8Lo = 0x80; _utf8Hi = 0xBF; return true;
            case 0xF4: _utf8Need = 3; _utf8Lo = 0x80; _utf8Hi = 0x8F; return true;
            default: return false;
        }
    }

    /// <summary>
    /// Writes into <paramref name="output"/> the shortest byte string (one of them) that completes the text from this
    /// state: closes any open string, number, literal, key/value pair and container, emitting no whitespace (for a
    /// top-level object it ends in <see cref="IsDone"/>). Returns its length, or −1 when the state failed or
    /// <paramref name="output"/> is too short (MaxDepth + 16 bytes always suffices).
    /// </summary>
    public readonly int Completion(Span<byte> output)
    {
        if (IsFailed) return -1;
        JsonGrammarState s = this;
        int n = 0;
        while (!s.IsDone && !(s.IsComplete && s._depth == 0 && !s._objectOnly))
        {
            if (n == output.Length) return -1;
            byte b = s.NextCompletionByte();
            if (!s.Feed(b)) return -1;
            output[n++] = b;
        }
        return n;
    }

    /// <summary>
    /// Length of <see cref="Completion"/> in O(1): the fewest bytes that complete the text (0 when done; −1 when failed).
    /// </summary>
    public readonly int CompletionLength
    {
        get
        {
            int key = _inKey ? 2 : 0;   // ':' and a value after a key's closing quote
            return _mode switch
            {
                Mode.Done => 0,
                Mode.Failed => -1,
                Mode.Value => _depth == 0 ? (_objectOnly ? 2 : 1) : 1 + _depth,
                Mode.ArrayFirst or Mode.ObjectFirst or Mode.AfterValue => _depth,
                Mode.Key => 4 + _depth,
                Mode.Colon => 2 + _depth,
                Mode.String => _utf8Need + 1 + key + _depth,
                Mode.Escape => 2 + key + _depth,
                Mode.Unicode => 4 - _sub + 1 + key + _depth,
                Mode.Minus or Mode.Dot or Mode.Exponent or Mode.ExponentSign => 1 + _depth,
                Mode.Literal => (_sub == 1 ? 5 : 4) - _index + _depth,
                _ => _depth,   // a number that may end here
            };
        }
    }

    private readonly byte NextCompletionByte()
    {
        byte closer = _depth > 0 && TopIsObject ? (byte)'}' : (byte)']';
        return _mode switch
        {
            Mode.Value => _depth == 0 && _objectOnly ? (byte)'{' : (byte)'0',
            Mode.ArrayFirst => (byte)']',
            Mode.ObjectFirst => (byte)'}',
            Mode.Key => (byte)'"',
            Mode.Colon => (byte)':',
            Mode.AfterValue => closer,
            Mode.String => _utf8Need > 0 ? _utf8Lo : (byte)'"',
            Mode.Escape => (byte)'"',
            Mode.Unicode => (byte)'0',
            Mode.Minus or Mode.Dot or Mode.Exponent or Mode.ExponentSign => (byte)'0',
            Mode.Zero or Mode.Integer or Mode.Fraction or Mode.ExponentDigits => closer,
            Mode.Literal => (_sub switch { 0 => True, 1 => False, _ => Null })[_index],
            _ => (byte)' ',
        };
    }

    private static bool IsDigit(byte b) => (uint)(b - '0') <= 9;

    private static bool IsDigit19(byte b) => (uint)(b - '1') <= 8;

    private static bool IsHex(byte b) => IsDigit(b) || (uint)((b | 0x20) - 'a') <= 5;
}
