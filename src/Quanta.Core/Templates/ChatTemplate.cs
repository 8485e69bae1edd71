using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Quanta.Core.Templates;

/// <summary>
/// A parsed Hugging Face chat template (tokenizer.chat_template, Jinja). Rendering is designed to
/// be byte-identical to @huggingface/jinja 0.5.11 with trim_blocks and lstrip_blocks on, including
/// its departures from Python Jinja (e.g. <c>{{ none }}</c> prints nothing, <c>str.strip(chars)</c>
/// ignores its argument, JSON uses JavaScript number formatting). Instances are immutable and
/// thread-safe; each <see cref="Render(ChatTemplateContext)"/> call uses fresh state.
/// </summary>
public sealed class ChatTemplate
{
    private static readonly string[] Globals = ["false", "true", "none", "raise_exception", "range", "strftime_now", "True", "False", "None", "namespace"];

    private readonly SourceText _source;
    private readonly TemplateProgram _program;

    private ChatTemplate(SourceText source, TemplateProgram program)
    {
        _source = source;
        _program = program;
    }

    /// <summary>The template source as given.</summary>
    public string Source { get; private init; } = "";

    /// <summary>Parses a template. Throws <see cref="TemplateException"/> (with line/column) on a syntax error.</summary>
    public static ChatTemplate Parse(string source)
    {
        ArgumentNullException.ThrowIfNull(source);
        var text = SourceText.Preprocess(source);
        var tokens = Lexer.Tokenize(text);
        var program = Parser.Parse(tokens, text);
        return new ChatTemplate(text, program) { Source = source };
    }

    /// <summary>Renders with a typed context. Throws <see cref="TemplateException"/> on runtime errors and raise_exception.</summary>
    public string Render(ChatTemplateContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        return Render(context.ToJson(), context.Clock);
    }

    /// <summary>Renders with the template variables given as one JSON object.</summary>
    public string Render(JsonObject variables, Func<DateTime>? clock = null)
    {
        ArgumentNullException.ThrowIfNull(variables);
        var global = new Scope(null);
        SetupGlobals(global, clock ?? (() => DateTime.Now));
        foreach (var (key, value) in OrderKeys(variables))
        {
            if (Array.IndexOf(Globals, key) >= 0) throw new TemplateException($"Variable already declared: {key}");
            global.Declare(key, FromJson(value));
        }
        return new Interpreter(_source).Run(_program, global);
    }

    private static void SetupGlobals(Scope env, Func<DateTime> clock)
    {
        env.Set("false", JinjaValue.False);
        env.Set("true", JinjaValue.True);
        env.Set("none", JinjaValue.Null);
        env.Set("True", JinjaValue.True);
        env.Set("False", JinjaValue.False);
        env.Set("None", JinjaValue.Null);
        env.Set("raise_exception", JinjaValue.Func((args, _) =>
        {
            string message = string.Join(",", args.Select(a => a.Kind is ValueKind.Null or ValueKind.Undefined ? "" : a.Render()));
            throw new TemplateException(message, 0, 0, raisedByTemplate: true);
        }));
        env.Set("range", JinjaValue.Func((args, _) => Range(args)));
        env.Set("strftime_now", JinjaValue.Func((args, _) =>
        {
            if (args.Count == 0 || args[0].Kind != ValueKind.String) throw new TemplateException("strftime_now expects a format string");
            return JinjaValue.FromString(Builtins.Strftime(clock(), args[0].Str));
        }));
        env.Set("namespace", JinjaValue.Func((args, _) => Namespace(args)));
    }

    private static JinjaValue Range(List<JinjaValue> args)
    {
        double Num(JinjaValue v) => v.IsNumber ? v.Number : v.Kind == ValueKind.Boolean ? (v.Bool ? 1 : 0) : double.NaN;
        if (args.Count == 0) return JinjaValue.Array([]);
        double start = Num(args[0]), stop, step = 1;
        if (args.Count < 2 || args[1].Kind == ValueKind.Undefined) { stop = start; start = 0; }
        else stop = Num(args[1]);
        if (args.Count > 2 && args[2].Kind != ValueKind.Undefined) step = Num(args[2]);
        if (step == 0) throw new TemplateException("range() step must not be zero");
        var result = new List<JinjaValue>();
        if (step > 0) for (double i = start; i < stop; i += step) result.Add(NumberValue(i));
        else for (double i = start; i > stop; i += step) result.Add(NumberValue(i));
        return JinjaValue.Array(result);
    }

    private static JinjaValue NumberValue(double v) => v % 1 == 0 ? JinjaValue.Int(v) : JinjaValue.Float(v);

    private static JinjaValue Namespace(List<JinjaValue> args)
    {
        var positional = new List<JinjaValue>(args);
        JinjaValue? kwargs = null;
        if (positional.Count > 0 && positional[^1].Kind == ValueKind.KeywordArguments)
        {
            kwargs = positional[^1];
            positional.RemoveAt(positional.Count - 1);
        }
        if (positional.Count > 1) throw new TemplateException($"namespace expected at most 1 argument, got {positional.Count}");
        var entries = new OrderedDictionary<string, JinjaValue>(StringComparer.Ordinal);
        if (positional.Count == 1)
        {
            var source = positional[0];
            if (source.IsObjectLike)
            {
                foreach (var (k, v) in source.Map) entries[k] = v;
            }
            else if (source.IsArrayLike)
            {
                foreach (var pair in source.Items)
                {
                    List<JinjaValue>? values = pair.IsArrayLike ? pair.Items
                        : pair.Kind == ValueKind.String ? Interpreter.CodePoints(pair.Str).Select(JinjaValue.FromString).ToList() : null;
                    if (values is null || values.Count != 2) throw new TemplateException("namespace expected an object or an iterable of [key, value] pairs");
                    if (values[0].Kind != ValueKind.String) throw new TemplateException("namespace keys must be strings");
                    entries[values[0].Str] = values[1];
                }
            }
            else throw new TemplateException($"'{source.TypeName}' object is not iterable");
        }
        if (kwargs is not null)
        {
            foreach (var (k, v) in kwargs.Map) entries[k] = v;
        }
        return JinjaValue.Namespace(entries);
    }

    /// <summary>JavaScript own-property order: array-index keys ascending first, then insertion order.</summary>
    private static IEnumerable<KeyValuePair<string, JsonNode?>> OrderKeys(JsonObject obj)
    {
        var indexKeys = new List<(uint Index, KeyValuePair<string, JsonNode?> Entry)>();
        var others = new List<KeyValuePair<string, JsonNode?>>();
        foreach (var kv in obj)
        {
            if (IsArrayIndex(kv.Key, out uint idx)) indexKeys.Add((idx, kv));
            else others.Add(kv);
        }
        indexKeys.Sort((a, b) => a.Index.CompareTo(b.Index));
        return indexKeys.Select(x => x.Entry).Concat(others);
    }

    private static bool IsArrayIndex(string key, out uint index)
    {
        index = 0;
        if (key.Length == 0 || key.Length > 10 || (key.Length > 1 && key[0] == '0')) return false;
        foreach (char c in key) if (!JsText.IsDigit(c)) return false;
        return uint.TryParse(key, NumberStyles.None, CultureInfo.InvariantCulture, out index) && index != uint.MaxValue;
    }

    /// <summary>Converts JSON to runtime values as @huggingface/jinja does for JavaScript objects.</summary>
    private static JinjaValue FromJson(JsonNode? node)
    {
        switch (node)
        {
            case null:
                return JinjaValue.Null;
            case JsonArray array:
                return JinjaValue.Array(array.Select(FromJson).ToList());
            case JsonObject obj:
            {
                var map = new OrderedDictionary<string, JinjaValue>(StringComparer.Ordinal);
                foreach (var (k, v) in OrderKeys(obj)) map[k] = FromJson(v);
                return JinjaValue.Object(map);
            }
            case JsonValue value:
            {
                switch (value.GetValueKind())
                {
                    case JsonValueKind.String: return JinjaValue.FromString(value.GetValue<string>());
                    case JsonValueKind.True: return JinjaValue.True;
                    case JsonValueKind.False: return JinjaValue.False;
                    case JsonValueKind.Null: return JinjaValue.Null;
                    case JsonValueKind.Number:
                        return NumberValue(double.Parse(value.ToJsonString(), NumberStyles.Float, CultureInfo.InvariantCulture));
                    default: throw new TemplateException($"Unsupported JSON value: {value.GetValueKind()}");
                }
            }
            default:
                throw new TemplateException("Unsupported JSON node");
        }
    }
}
