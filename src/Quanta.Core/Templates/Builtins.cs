using System.Globalization;
using System.Text;

namespace Quanta.Core.Templates;

/// <summary>
/// Built-in methods of runtime values (<c>str.upper()</c>, <c>dict.items()</c>, <c>list.length</c>...),
/// the <c>is</c> tests, and value comparison, as @huggingface/jinja 0.5.11 defines them.
/// </summary>
internal static class Builtins
{
    public static TemplateException Error(string message) => new(message);

    /// <summary>The builtin member <paramref name="name"/> of a value, or null when there is none.</summary>
    public static JinjaValue? Get(JinjaValue self, string name) => self.Kind switch
    {
        ValueKind.String => StringMember(self.Str, name),
        ValueKind.Object or ValueKind.KeywordArguments => ObjectMember(self, name),
        ValueKind.Array or ValueKind.Tuple => name == "length" ? JinjaValue.Int(self.Items.Count) : null,
        _ => null,
    };

    private static JinjaValue Fn(Func<List<JinjaValue>, JinjaValue> f) => JinjaValue.Func((args, _) => f(args));

    private static JinjaValue? StringMember(string s, string name) => name switch
    {
        "upper" => Fn(_ => JinjaValue.FromString(s.ToUpperInvariant())),
        "lower" => Fn(_ => JinjaValue.FromString(s.ToLowerInvariant())),
        "strip" => Fn(_ => JinjaValue.FromString(JsText.Trim(s))),
        "title" => Fn(_ => JinjaValue.FromString(TitleCase(s))),
        "capitalize" => Fn(_ => JinjaValue.FromString(s.Length == 0 ? s : char.ToUpperInvariant(s[0]) + s[1..])),
        "length" => JinjaValue.Int(s.Length),
        "rstrip" => Fn(_ => JinjaValue.FromString(JsText.TrimEnd(s))),
        "lstrip" => Fn(_ => JinjaValue.FromString(JsText.TrimStart(s))),
        "startswith" => Fn(args => AffixTest(s, args, "startswith", (a, b) => a.StartsWith(b, StringComparison.Ordinal))),
        "endswith" => Fn(args => AffixTest(s, args, "endswith", (a, b) => a.EndsWith(b, StringComparison.Ordinal))),
        "split" => Fn(args => Split(s, args)),
        "replace" => Fn(args => Replace(s, args)),
        _ => null,
    };

    /// <summary>JS <c>/\b\w/g</c> upper-casing: first ASCII word char after a boundary.</summary>
    public static string TitleCase(string s)
    {
        var chars = s.ToCharArray();
        for (int i = 0; i < chars.Length; i++)
        {
            if (JsText.IsWordChar(chars[i]) && (i == 0 || !JsText.IsWordChar(chars[i - 1])))
                chars[i] = char.ToUpperInvariant(chars[i]);
        }
        return new string(chars);
    }

    private static JinjaValue AffixTest(string s, List<JinjaValue> args, string name, Func<string, string, bool> test)
    {
        if (args.Count == 0) throw Error($"{name}() requires at least one argument");
        var pattern = args[0];
        if (pattern.Kind == ValueKind.String) return JinjaValue.FromBool(test(s, pattern.Str));
        if (pattern.IsArrayLike)
        {
            foreach (var item in pattern.Items)
            {
                if (item.Kind != ValueKind.String) throw Error($"{name}() tuple elements must be strings");
                if (test(s, item.Str)) return JinjaValue.True;
            }
            return JinjaValue.False;
        }
        throw Error($"{name}() argument must be a string or tuple of strings");
    }

    private static JinjaValue Split(string s, List<JinjaValue> args)
    {
        var sep = args.Count > 0 ? args[0] : JinjaValue.Null;
        if (sep.Kind is not (ValueKind.String or ValueKind.Null)) throw Error("sep argument must be a string or null");
        var maxsplitV = args.Count > 1 ? args[1] : JinjaValue.Int(-1);
        if (maxsplitV.Kind != ValueKind.Integer) throw Error("maxsplit argument must be a number");
        double maxsplit = maxsplitV.Number;
        var result = new List<string>();
        if (sep.Kind == ValueKind.Null)
        {
            string text = JsText.TrimStart(s);
            int i = 0;
            while (i < text.Length)
            {
                while (i < text.Length && JsText.IsWhitespace(text[i])) i++;
                if (i >= text.Length) break;
                int start = i;
                while (i < text.Length && !JsText.IsWhitespace(text[i])) i++;
                if (maxsplit != -1 && result.Count >= maxsplit)
                {
                    result.Add(text[start..]);
                    break;
                }
                result.Add(text[start..i]);
            }
        }
        else
        {
            if (sep.Str.Length == 0) throw Error("empty separator");
            result.AddRange(s.Split(sep.Str));
            if (maxsplit != -1 && result.Count > maxsplit)
            {
                int keep = maxsplit < 0 ? Math.Max(0, result.Count + (int)maxsplit) : (int)maxsplit;
                string rest = string.Join(sep.Str, result.Skip(keep));
                result.RemoveRange(keep, result.Count - keep);
                result.Add(rest);
            }
        }
        return JinjaValue.Array(result.Select(JinjaValue.FromString).ToList());
    }

    private static JinjaValue Replace(string s, List<JinjaValue> args)
    {
        if (args.Count < 2) throw Error("replace() requires at least two arguments");
        var oldV = args[0];
        var newV = args[1];
        if (oldV.Kind != ValueKind.String || newV.Kind != ValueKind.String) throw Error("replace() arguments must be strings");
        JinjaValue count;
        if (args.Count > 2)
        {
            count = args[2].Kind == ValueKind.KeywordArguments
                ? (args[2].Map.TryGetValue("count", out var c) ? c : JinjaValue.Null)
                : args[2];
        }
        else count = JinjaValue.Null;
        if (count.Kind is not (ValueKind.Integer or ValueKind.Null)) throw Error("replace() count argument must be a number or null");
        if (count.Kind == ValueKind.Integer && count.Number == 0) return JinjaValue.FromString(s);
        double remaining = count.Kind == ValueKind.Null || count.Number < 0 ? double.PositiveInfinity : count.Number;
        var sb = new StringBuilder();
        string o = oldV.Str, n = newV.Str;
        if (o.Length == 0)
        {
            // (?=) with the u flag: every code point boundary, including both ends.
            int i = 0;
            while (true)
            {
                if (remaining > 0) { sb.Append(n); remaining--; }
                if (i >= s.Length) break;
                int len = char.IsHighSurrogate(s[i]) && i + 1 < s.Length && char.IsLowSurrogate(s[i + 1]) ? 2 : 1;
                sb.Append(s, i, len);
                i += len;
            }
            return JinjaValue.FromString(sb.ToString());
        }
        int pos = 0;
        while (true)
        {
            int idx = s.IndexOf(o, pos, StringComparison.Ordinal);
            if (idx < 0) break;
            sb.Append(s, pos, idx - pos);
            if (remaining > 0) { sb.Append(n); remaining--; }
            else sb.Append(o);
            pos = idx + o.Length;
        }
        sb.Append(s, pos, s.Length - pos);
        return JinjaValue.FromString(sb.ToString());
    }

    private static JinjaValue? ObjectMember(JinjaValue self, string name) => name switch
    {
        "get" => Fn(args =>
        {
            var key = args.Count > 0 ? args[0] : JinjaValue.Undefined;
            if (key.Kind != ValueKind.String) throw Error($"Object key must be a string: got {key.TypeName}");
            if (self.Map.TryGetValue(key.Str, out var v)) return v;
            return args.Count > 1 ? args[1] : JinjaValue.Null;
        }),
        "items" => Fn(_ => Items(self)),
        "keys" => Fn(_ => Keys(self)),
        "values" => Fn(_ => JinjaValue.Array(self.Map.Values.ToList())),
        "dictsort" => Fn(args => DictSort(self, args)),
        _ => null,
    };

    public static JinjaValue Items(JinjaValue obj) =>
        JinjaValue.Array(obj.Map.Select(kv => JinjaValue.Array([JinjaValue.FromString(kv.Key), kv.Value])).ToList());

    public static JinjaValue Keys(JinjaValue obj) =>
        JinjaValue.Array(obj.Map.Keys.Select(JinjaValue.FromString).ToList());

    private static JinjaValue DictSort(JinjaValue self, List<JinjaValue> args)
    {
        var kwargs = new OrderedDictionary<string, JinjaValue>();
        var positional = new List<JinjaValue>();
        foreach (var a in args)
        {
            if (a.Kind == ValueKind.KeywordArguments) kwargs = a.Map;
            else positional.Add(a);
        }
        var caseSensitive = Arg(positional, 0, kwargs, "case_sensitive") ?? JinjaValue.False;
        if (caseSensitive.Kind != ValueKind.Boolean) throw Error("case_sensitive must be a boolean");
        var by = Arg(positional, 1, kwargs, "by") ?? JinjaValue.FromString("key");
        if (by.Kind != ValueKind.String) throw Error("by must be a string");
        if (by.Str is not ("key" or "value")) throw Error("by must be either 'key' or 'value'");
        var reverse = Arg(positional, 2, kwargs, "reverse") ?? JinjaValue.False;
        if (reverse.Kind != ValueKind.Boolean) throw Error("reverse must be a boolean");
        var items = Items(self).Items;
        int index = by.Str == "key" ? 0 : 1;
        var sorted = StableSort(items, (a, b) =>
        {
            int r = Compare(a.Items[index], b.Items[index], caseSensitive.Bool);
            return reverse.Bool ? -r : r;
        });
        return JinjaValue.Array(sorted);
    }

    public static JinjaValue? Arg(List<JinjaValue> positional, int index, OrderedDictionary<string, JinjaValue> kwargs, string name)
    {
        if (index < positional.Count) return positional[index];
        return kwargs.TryGetValue(name, out var v) ? v : null;
    }

    /// <summary>Stable merge sort (JavaScript's Array.prototype.sort is stable).</summary>
    public static List<JinjaValue> StableSort(List<JinjaValue> items, Comparison<JinjaValue> cmp)
    {
        var indexed = items.Select((v, i) => (v, i)).ToList();
        indexed.Sort((a, b) =>
        {
            int r = cmp(a.v, b.v);
            return r != 0 ? r : a.i.CompareTo(b.i);
        });
        return indexed.Select(x => x.v).ToList();
    }

    /// <summary>compareRuntimeValues: numbers/booleans numerically, strings by UTF-16 units.</summary>
    public static int Compare(JinjaValue a, JinjaValue b, bool caseSensitive)
    {
        if (a.Kind == ValueKind.Null && b.Kind == ValueKind.Null) return 0;
        if (a.Kind == ValueKind.Null || b.Kind == ValueKind.Null) throw Error($"Cannot compare {a.TypeName} with {b.TypeName}");
        if (a.Kind == ValueKind.Undefined && b.Kind == ValueKind.Undefined) return 0;
        if (a.Kind == ValueKind.Undefined || b.Kind == ValueKind.Undefined) throw Error($"Cannot compare {a.TypeName} with {b.TypeName}");
        bool aNum = a.IsNumber || a.Kind == ValueKind.Boolean, bNum = b.IsNumber || b.Kind == ValueKind.Boolean;
        if (aNum && bNum)
        {
            double x = a.Kind == ValueKind.Boolean ? (a.Bool ? 1 : 0) : a.Number;
            double y = b.Kind == ValueKind.Boolean ? (b.Bool ? 1 : 0) : b.Number;
            return x < y ? -1 : x > y ? 1 : 0;
        }
        if (a.Kind != b.Kind) throw Error($"Cannot compare different types: {a.TypeName} and {b.TypeName}");
        if (a.Kind == ValueKind.String)
        {
            string x = caseSensitive ? a.Str : a.Str.ToLowerInvariant();
            string y = caseSensitive ? b.Str : b.Str.ToLowerInvariant();
            int c = string.CompareOrdinal(x, y);
            return c < 0 ? -1 : c > 0 ? 1 : 0;
        }
        throw Error($"Cannot compare type: {a.TypeName}");
    }

    /// <summary>The <c>is</c> tests (operand only; equalto/eq need a second value).</summary>
    public static bool RunTest(string name, JinjaValue operand, JinjaValue? other)
    {
        switch (name)
        {
            case "boolean": return operand.Kind == ValueKind.Boolean;
            case "callable": return operand.Kind == ValueKind.Function;
            case "odd":
                if (operand.Kind != ValueKind.Integer) throw Error($"cannot odd on {operand.TypeName}");
                return operand.Number % 2 != 0;
            case "even":
                if (operand.Kind != ValueKind.Integer) throw Error($"cannot even on {operand.TypeName}");
                return operand.Number % 2 == 0;
            case "false": return operand.Kind == ValueKind.Boolean && !operand.Bool;
            case "true": return operand.Kind == ValueKind.Boolean && operand.Bool;
            case "none": return operand.Kind == ValueKind.Null;
            case "string": return operand.Kind == ValueKind.String;
            case "number": return operand.IsNumber;
            case "integer": return operand.Kind == ValueKind.Integer;
            case "iterable": return operand.Kind is ValueKind.Array or ValueKind.String;
            case "mapping": return operand.IsObjectLike;
            case "sequence": return operand.IsArrayLike || operand.IsObjectLike || operand.Kind == ValueKind.String;
            case "lower": return operand.Kind == ValueKind.String && operand.Str == operand.Str.ToLowerInvariant();
            case "upper": return operand.Kind == ValueKind.String && operand.Str == operand.Str.ToUpperInvariant();
            case "defined": return operand.Kind != ValueKind.Undefined;
            case "undefined": return operand.Kind == ValueKind.Undefined;
            case "equalto":
            case "eq":
                if (other is null) throw Error("Cannot read properties of undefined (reading 'value')");
                return JinjaValue.StrictEquals(operand, other);
            default:
                throw Error($"Unknown test: {name}");
        }
    }

    public static bool IsKnownTest(string name) => name is "boolean" or "callable" or "odd" or "even" or "false" or "true"
        or "none" or "string" or "number" or "integer" or "iterable" or "mapping" or "sequence" or "lower" or "upper"
        or "defined" or "undefined" or "equalto" or "eq";

    /// <summary>strftime subset of @huggingface/jinja (%Y %m %d %b %B %H %M %%), en-US month names.</summary>
    public static string Strftime(DateTime date, string format)
    {
        var sb = new StringBuilder();
        for (int i = 0; i < format.Length; i++)
        {
            if (format[i] == '%' && i + 1 < format.Length && "YmdbBHM%".Contains(format[i + 1], StringComparison.Ordinal))
            {
                char c = format[++i];
                sb.Append(c switch
                {
                    'Y' => date.Year.ToString(CultureInfo.InvariantCulture),
                    'm' => date.Month.ToString("00", CultureInfo.InvariantCulture),
                    'd' => date.Day.ToString("00", CultureInfo.InvariantCulture),
                    'b' => ShortMonths[date.Month - 1],
                    'B' => LongMonths[date.Month - 1],
                    'H' => date.Hour.ToString("00", CultureInfo.InvariantCulture),
                    'M' => date.Minute.ToString("00", CultureInfo.InvariantCulture),
                    _ => "%",
                });
            }
            else sb.Append(format[i]);
        }
        return sb.ToString();
    }

    private static readonly string[] ShortMonths = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
    private static readonly string[] LongMonths = ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October", "November", "December"];
}
