using System.Text;

namespace Quanta.Core.Templates;

/// <summary>Options of the <c>tojson</c> filter (indent, ensure_ascii, sort_keys, separators).</summary>
internal sealed record JsonOptions(int? Indent, bool EnsureAscii, bool SortKeys, (string Item, string Key)? Separators)
{
    public static readonly JsonOptions Default = new(null, false, false, null);
}

/// <summary>
/// @huggingface/jinja's <c>toJSON</c>: Python-json-like spacing (", " and ": " without indent,
/// "," and ": " with indent), JavaScript number and string formatting, insertion key order.
/// </summary>
internal static class JsonWriter
{
    public static string Write(JinjaValue input, JsonOptions options, int depth, bool convertUndefinedToNull)
    {
        var sb = new StringBuilder();
        Append(sb, input, options, depth, convertUndefinedToNull);
        return sb.ToString();
    }

    private static void Append(StringBuilder sb, JinjaValue input, JsonOptions o, int depth, bool undefToNull)
    {
        string itemSep, keySep;
        if (o.Separators is { } seps) { itemSep = seps.Item; keySep = seps.Key; }
        else if (o.Indent is > 0) { itemSep = ","; keySep = ": "; }
        else { itemSep = ", "; keySep = ": "; }
        bool indented = o.Indent is > 0;

        switch (input.Kind)
        {
            case ValueKind.Null:
                sb.Append("null");
                return;
            case ValueKind.Undefined:
                sb.Append(undefToNull ? "null" : "undefined");
                return;
            case ValueKind.Integer:
            case ValueKind.Float:
                sb.Append(double.IsFinite(input.Number) ? JsText.NumberToString(input.Number) : "null");
                return;
            case ValueKind.Boolean:
                sb.Append(input.Bool ? "true" : "false");
                return;
            case ValueKind.String:
            {
                string q = JsText.JsonQuote(input.Str);
                sb.Append(o.EnsureAscii ? JsText.MakeAsciiSafe(q) : q);
                return;
            }
            case ValueKind.Array:
            case ValueKind.Object:
            case ValueKind.Namespace:
            {
                string indentValue = indented ? new string(' ', o.Indent!.Value) : "";
                var basePad = new StringBuilder("\n");
                for (int i = 0; i < depth; i++) basePad.Append(indentValue);
                string basePadding = basePad.ToString();
                string childPadding = basePadding + indentValue;
                if (input.Kind == ValueKind.Array)
                {
                    var items = input.Items;
                    if (indented && items.Count > 0)
                    {
                        sb.Append('[').Append(childPadding);
                        for (int i = 0; i < items.Count; i++)
                        {
                            if (i > 0) sb.Append(itemSep).Append(childPadding);
                            Append(sb, items[i], o, depth + 1, undefToNull);
                        }
                        sb.Append(basePadding).Append(']');
                    }
                    else
                    {
                        sb.Append('[');
                        for (int i = 0; i < items.Count; i++)
                        {
                            if (i > 0) sb.Append(itemSep);
                            Append(sb, items[i], o, depth + 1, undefToNull);
                        }
                        sb.Append(']');
                    }
                    return;
                }
                IEnumerable<KeyValuePair<string, JinjaValue>> entries = input.Map;
                if (o.SortKeys)
                {
                    var list = input.Map.ToList();
                    // localeCompare approximation: case-insensitive first, then ordinal.
                    list.Sort((a, b) =>
                    {
                        int c = string.Compare(a.Key, b.Key, StringComparison.OrdinalIgnoreCase);
                        return c != 0 ? c : string.CompareOrdinal(a.Key, b.Key);
                    });
                    entries = list;
                }
                sb.Append('{');
                bool first = true;
                foreach (var (key, value) in entries)
                {
                    if (!first) sb.Append(itemSep);
                    first = false;
                    if (indented) sb.Append(childPadding);
                    string k = JsText.JsonQuote(key);
                    sb.Append(o.EnsureAscii ? JsText.MakeAsciiSafe(k) : k).Append(keySep);
                    Append(sb, value, o, depth + 1, undefToNull);
                }
                if (indented && !first) sb.Append(basePadding);
                sb.Append('}');
                return;
            }
            default:
                throw new InvalidOperationException($"Cannot convert to JSON: {input.TypeName}");
        }
    }
}
