using System.Globalization;
using System.Text;

namespace Quanta.Core.Templates;

/// <summary>
/// JavaScript string and number semantics that @huggingface/jinja inherits from its host:
/// the ECMAScript whitespace set (<c>\s</c>, <c>trim</c>), <c>Number.prototype.toString</c>,
/// <c>JSON.stringify</c> of strings, <c>parseInt</c>/<c>parseFloat</c>.
/// </summary>
internal static class JsText
{
    /// <summary>ECMAScript WhiteSpace + LineTerminator (the set matched by <c>\s</c>).</summary>
    public static bool IsWhitespace(char c) => c switch
    {
        '\t' or '\n' or '\v' or '\f' or '\r' or ' ' or '\u00A0' or '\u1680' or '\u2028' or '\u2029'
            or '\u202F' or '\u205F' or '\u3000' or '\uFEFF' => true,
        >= '\u2000' and <= '\u200A' => true,
        _ => false,
    };

    /// <summary>ASCII word character (<c>\w</c> without the u flag).</summary>
    public static bool IsWordChar(char c) => c is (>= 'a' and <= 'z') or (>= 'A' and <= 'Z') or (>= '0' and <= '9') or '_';

    public static bool IsDigit(char c) => c is >= '0' and <= '9';

    public static string Trim(string s) => TrimEnd(TrimStart(s));

    public static string TrimStart(string s)
    {
        int i = 0;
        while (i < s.Length && IsWhitespace(s[i])) i++;
        return s[i..];
    }

    public static string TrimEnd(string s)
    {
        int e = s.Length;
        while (e > 0 && IsWhitespace(s[e - 1])) e--;
        return s[..e];
    }

    /// <summary><c>Number.prototype.toString()</c> (radix 10).</summary>
    public static string NumberToString(double v)
    {
        if (double.IsNaN(v)) return "NaN";
        if (double.IsPositiveInfinity(v)) return "Infinity";
        if (double.IsNegativeInfinity(v)) return "-Infinity";
        if (v == 0) return "0";
        string r = v.ToString("R", CultureInfo.InvariantCulture);
        bool negative = r[0] == '-';
        if (negative) r = r[1..];
        int exp = 0;
        int ePos = r.IndexOfAny(['E', 'e']);
        if (ePos >= 0)
        {
            exp = int.Parse(r[(ePos + 1)..], NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture);
            r = r[..ePos];
        }
        int dot = r.IndexOf('.', StringComparison.Ordinal);
        string intPart = dot >= 0 ? r[..dot] : r;
        string fracPart = dot >= 0 ? r[(dot + 1)..] : "";
        string digits = intPart + fracPart;
        int n = intPart.Length + exp; // value = 0.digits * 10^n
        int lead = 0;
        while (lead < digits.Length - 1 && digits[lead] == '0') { lead++; n--; }
        digits = digits[lead..].TrimEnd('0');
        if (digits.Length == 0) return "0";
        int k = digits.Length;
        var sb = new StringBuilder();
        if (negative) sb.Append('-');
        if (k <= n && n <= 21)
        {
            sb.Append(digits).Append('0', n - k);
        }
        else if (0 < n && n <= 21)
        {
            sb.Append(digits, 0, n).Append('.').Append(digits, n, k - n);
        }
        else if (-6 < n && n <= 0)
        {
            sb.Append("0.").Append('0', -n).Append(digits);
        }
        else
        {
            int e = n - 1;
            sb.Append(digits[0]);
            if (k > 1) sb.Append('.').Append(digits, 1, k - 1);
            sb.Append('e').Append(e >= 0 ? '+' : '-').Append(Math.Abs(e).ToString(CultureInfo.InvariantCulture));
        }
        return sb.ToString();
    }

    /// <summary><c>Number.prototype.toFixed(1)</c> for the integral values FloatValue prints.</summary>
    public static string FloatToString(double v)
    {
        if (v == 0 && double.IsNegative(v)) return "-0.0";
        if (double.IsFinite(v) && v % 1 == 0)
        {
            if (Math.Abs(v) >= 1e21) return NumberToString(v);
            return NumberToString(v) + ".0";
        }
        return NumberToString(v);
    }

    /// <summary><c>JSON.stringify(string)</c> (well-formed: lone surrogates escaped).</summary>
    public static string JsonQuote(string s)
    {
        var sb = new StringBuilder(s.Length + 2);
        sb.Append('"');
        for (int i = 0; i < s.Length; i++)
        {
            char c = s[i];
            switch (c)
            {
                case '"': sb.Append("\\\""); break;
                case '\\': sb.Append("\\\\"); break;
                case '\b': sb.Append("\\b"); break;
                case '\f': sb.Append("\\f"); break;
                case '\n': sb.Append("\\n"); break;
                case '\r': sb.Append("\\r"); break;
                case '\t': sb.Append("\\t"); break;
                default:
                    if (c < 0x20)
                    {
                        AppendU(sb, c);
                    }
                    else if (char.IsHighSurrogate(c))
                    {
                        if (i + 1 < s.Length && char.IsLowSurrogate(s[i + 1])) { sb.Append(c).Append(s[i + 1]); i++; }
                        else AppendU(sb, c);
                    }
                    else if (char.IsLowSurrogate(c))
                    {
                        AppendU(sb, c);
                    }
                    else
                    {
                        sb.Append(c);
                    }
                    break;
            }
        }
        sb.Append('"');
        return sb.ToString();
    }

    /// <summary>Replaces every UTF-16 unit in [\x7f-\uffff] with \uXXXX (lowercase hex).</summary>
    public static string MakeAsciiSafe(string s)
    {
        var sb = new StringBuilder(s.Length);
        foreach (char c in s)
        {
            if (c >= '\x7f') AppendU(sb, c);
            else sb.Append(c);
        }
        return sb.ToString();
    }

    private static void AppendU(StringBuilder sb, char c) =>
        sb.Append("\\u").Append(((int)c).ToString("x4", CultureInfo.InvariantCulture));

    /// <summary><c>parseInt(s, 10)</c>; NaN when no digits.</summary>
    public static double ParseInt(string s)
    {
        int i = 0;
        while (i < s.Length && IsWhitespace(s[i])) i++;
        bool neg = false;
        if (i < s.Length && (s[i] == '+' || s[i] == '-')) { neg = s[i] == '-'; i++; }
        int start = i;
        while (i < s.Length && IsDigit(s[i])) i++;
        if (i == start) return double.NaN;
        double v = double.Parse(s.AsSpan(start, i - start), NumberStyles.None, CultureInfo.InvariantCulture);
        return neg ? -v : v;
    }

    /// <summary><c>parseFloat(s)</c>; NaN when no number prefix.</summary>
    public static double ParseFloat(string s)
    {
        int i = 0;
        while (i < s.Length && IsWhitespace(s[i])) i++;
        int start = i;
        if (i < s.Length && (s[i] == '+' || s[i] == '-')) i++;
        if (string.CompareOrdinal(s, i, "Infinity", 0, 8) == 0)
            return s[start] == '-' ? double.NegativeInfinity : double.PositiveInfinity;
        int digitsStart = i;
        while (i < s.Length && IsDigit(s[i])) i++;
        int intDigits = i - digitsStart;
        int fracDigits = 0;
        if (i < s.Length && s[i] == '.')
        {
            int j = i + 1;
            while (j < s.Length && IsDigit(s[j])) j++;
            fracDigits = j - i - 1;
            if (intDigits > 0 || fracDigits > 0) i = j;
        }
        if (intDigits == 0 && fracDigits == 0) return double.NaN;
        if (i < s.Length && (s[i] == 'e' || s[i] == 'E'))
        {
            int j = i + 1;
            if (j < s.Length && (s[j] == '+' || s[j] == '-')) j++;
            int expStart = j;
            while (j < s.Length && IsDigit(s[j])) j++;
            if (j > expStart) i = j;
        }
        return double.Parse(s.AsSpan(start, i - start), NumberStyles.Float, CultureInfo.InvariantCulture);
    }
}
