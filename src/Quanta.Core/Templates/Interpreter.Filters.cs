namespace Quanta.Core.Templates;

internal sealed partial class Interpreter
{
    private static TemplateException Err(string m) => new(m);

    private JinjaValue ApplyFilter(JinjaValue operand, Node filterNode, Scope scope)
    {
        if (filterNode is IdentifierNode fid) return ApplySimpleFilter(operand, fid.Name);
        if (filterNode is not CallNode call) throw Err("Unknown filter");
        if (call.Callee is not IdentifierNode callee) throw Err("Unknown filter: CallExpression");
        return ApplyCallFilter(operand, callee.Name, call, scope);
    }

    private static JinjaValue ApplySimpleFilter(JinjaValue operand, string name)
    {
        if (name == "safe") return operand;
        if (name == "tojson") return JinjaValue.FromString(JsonWriter.Write(operand, JsonOptions.Default, 0, convertUndefinedToNull: true));
        if (operand.IsArrayLike)
        {
            var items = operand.Items;
            switch (name)
            {
                case "list": return operand;
                case "first": return items.Count > 0 ? items[0] : JinjaValue.Undefined;
                case "last": return items.Count > 0 ? items[^1] : JinjaValue.Undefined;
                case "length": return JinjaValue.Int(items.Count);
                case "reverse": { var r = new List<JinjaValue>(items); r.Reverse(); return JinjaValue.Array(r); }
                case "sort": return JinjaValue.Array(Builtins.StableSort(items, (a, b) => Builtins.Compare(a, b, false)));
                case "join": return JinjaValue.FromString(string.Concat(items.Select(JoinPart)));
                case "string": return JinjaValue.FromString(JsonWriter.Write(operand, JsonOptions.Default, 0, convertUndefinedToNull: false));
                case "unique":
                {
                    var seen = new HashSet<object>();
                    return JinjaValue.Array(items.Where(x => seen.Add(x.SetKey())).ToList());
                }
                default: throw Err($"Unknown ArrayValue filter: {name}");
            }
        }
        if (operand.Kind == ValueKind.String)
        {
            string s = operand.Str;
            switch (name)
            {
                case "length": return JinjaValue.Int(s.Length);
                case "upper": return JinjaValue.FromString(s.ToUpperInvariant());
                case "lower": return JinjaValue.FromString(s.ToLowerInvariant());
                case "title": return JinjaValue.FromString(Builtins.TitleCase(s));
                case "capitalize": return JinjaValue.FromString(s.Length == 0 ? s : char.ToUpperInvariant(s[0]) + s[1..]);
                case "trim": return JinjaValue.FromString(JsText.Trim(s));
                case "indent":
                    return JinjaValue.FromString(string.Join("\n", s.Split('\n').Select((x, i) => i == 0 || x.Length == 0 ? x : "    " + x)));
                case "join":
                case "string": return operand;
                case "int": { double v = JsText.ParseInt(s); return JinjaValue.Int(double.IsNaN(v) ? 0 : v); }
                case "float": { double v = JsText.ParseFloat(s); return JinjaValue.Float(double.IsNaN(v) ? 0 : v); }
                default: throw Err($"Unknown StringValue filter: {name}");
            }
        }
        if (operand.IsNumber)
        {
            switch (name)
            {
                case "abs": return operand.Kind == ValueKind.Integer ? JinjaValue.Int(Math.Abs(operand.Number)) : JinjaValue.Float(Math.Abs(operand.Number));
                case "int": return JinjaValue.Int(Math.Floor(operand.Number));
                case "float": return JinjaValue.Float(operand.Number);
                case "string": return JinjaValue.FromString(operand.Render());
                default: throw Err($"Unknown NumericValue filter: {name}");
            }
        }
        if (operand.IsObjectLike)
        {
            switch (name)
            {
                case "items": return Builtins.Items(operand);
                case "length": return JinjaValue.Int(operand.Map.Count);
                default:
                {
                    var builtin = Builtins.Get(operand, name) ?? throw Err($"Unknown ObjectValue filter: {name}");
                    return builtin.Kind == ValueKind.Function ? builtin.Function([], new Scope(null)) : builtin;
                }
            }
        }
        if (operand.Kind == ValueKind.Boolean)
        {
            switch (name)
            {
                case "bool": return operand;
                case "int": return JinjaValue.Int(operand.Bool ? 1 : 0);
                case "float": return JinjaValue.Float(operand.Bool ? 1 : 0);
                case "string": return JinjaValue.FromString(operand.Bool ? "true" : "false");
                default: throw Err($"Unknown BooleanValue filter: {name}");
            }
        }
        throw Err($"Cannot apply filter \"{name}\" to type: {operand.TypeName}");
    }

    /// <summary>JS <c>[].join</c> of raw values: null/undefined become empty.</summary>
    private static string JoinPart(JinjaValue v) => v.Kind is ValueKind.Null or ValueKind.Undefined ? "" : v.RawToString();

    private JinjaValue ApplyCallFilter(JinjaValue operand, string name, CallNode call, Scope scope)
    {
        switch (name)
        {
            case "tojson":
            {
                var (_, kwargs) = EvaluateArguments(call.Args, scope);
                var indent = kwargs.GetValueOrDefault("indent") ?? JinjaValue.Null;
                if (indent.Kind is not (ValueKind.Integer or ValueKind.Null)) throw Err("If set, indent must be a number");
                var ensureAscii = kwargs.GetValueOrDefault("ensure_ascii") ?? JinjaValue.False;
                if (ensureAscii.Kind != ValueKind.Boolean) throw Err("If set, ensure_ascii must be a boolean");
                var sortKeys = kwargs.GetValueOrDefault("sort_keys") ?? JinjaValue.False;
                if (sortKeys.Kind != ValueKind.Boolean) throw Err("If set, sort_keys must be a boolean");
                var sepArg = kwargs.GetValueOrDefault("separators") ?? JinjaValue.Null;
                (string, string)? separators = null;
                if (sepArg.IsArrayLike)
                {
                    if (sepArg.Items.Count != 2 || sepArg.Items[0].Kind != ValueKind.String || sepArg.Items[1].Kind != ValueKind.String)
                        throw Err("separators must be a tuple of two strings");
                    separators = (sepArg.Items[0].Str, sepArg.Items[1].Str);
                }
                else if (sepArg.Kind != ValueKind.Null) throw Err("If set, separators must be a tuple of two strings");
                int? indentValue = indent.Kind == ValueKind.Integer && indent.Number != 0 ? (int)indent.Number : null;
                var options = new JsonOptions(indentValue, ensureAscii.Bool, sortKeys.Bool, separators);
                return JinjaValue.FromString(JsonWriter.Write(operand, options, 0, convertUndefinedToNull: true));
            }
            case "join":
            {
                List<string> parts;
                if (operand.Kind == ValueKind.String) parts = CodePoints(operand.Str);
                else if (operand.IsArrayLike) parts = operand.Items.Select(JoinPart).ToList();
                else throw Err($"Cannot apply filter \"{name}\" to type: {operand.TypeName}");
                var (args, kwargs) = EvaluateArguments(call.Args, scope);
                var sep = Builtins.Arg(args, 0, kwargs, "separator") ?? JinjaValue.FromString("");
                if (sep.Kind != ValueKind.String) throw Err("separator must be a string");
                return JinjaValue.FromString(string.Join(sep.Str, parts));
            }
            case "int":
            case "float":
            {
                var (args, kwargs) = EvaluateArguments(call.Args, scope);
                bool isInt = name == "int";
                var def = Builtins.Arg(args, 0, kwargs, "default") ?? (isInt ? JinjaValue.Int(0) : JinjaValue.Float(0));
                if (operand.Kind == ValueKind.String)
                {
                    double v = isInt ? JsText.ParseInt(operand.Str) : JsText.ParseFloat(operand.Str);
                    return double.IsNaN(v) ? def : isInt ? JinjaValue.Int(v) : JinjaValue.Float(v);
                }
                if (operand.IsNumber) return operand;
                if (operand.Kind == ValueKind.Boolean) return isInt ? JinjaValue.Int(operand.Bool ? 1 : 0) : JinjaValue.Float(operand.Bool ? 1 : 0);
                throw Err($"Cannot apply filter \"{name}\" to type: {operand.TypeName}");
            }
            case "default":
            {
                var (args, kwargs) = EvaluateArguments(call.Args, scope);
                var def = args.Count > 0 ? args[0] : JinjaValue.FromString("");
                var boolean = (args.Count > 1 ? args[1] : null) ?? kwargs.GetValueOrDefault("boolean") ?? JinjaValue.False;
                if (boolean.Kind != ValueKind.Boolean) throw Err("`default` filter flag must be a boolean");
                if (operand.Kind == ValueKind.Undefined || (boolean.Bool && !operand.Truthy)) return def;
                return operand;
            }
        }
        if (operand.IsArrayLike)
        {
            switch (name)
            {
                case "sort":
                {
                    var (args, kwargs) = EvaluateArguments(call.Args, scope);
                    var reverse = Builtins.Arg(args, 0, kwargs, "reverse") ?? JinjaValue.False;
                    if (reverse.Kind != ValueKind.Boolean) throw Err("reverse must be a boolean");
                    var caseSensitive = Builtins.Arg(args, 1, kwargs, "case_sensitive") ?? JinjaValue.False;
                    if (caseSensitive.Kind != ValueKind.Boolean) throw Err("case_sensitive must be a boolean");
                    var attribute = Builtins.Arg(args, 2, kwargs, "attribute") ?? JinjaValue.Null;
                    if (attribute.Kind is not (ValueKind.String or ValueKind.Integer or ValueKind.Null))
                        throw Err("attribute must be a string, integer, or null");
                    JinjaValue Key(JinjaValue item) => attribute.Kind == ValueKind.Null ? item
                        : GetAttributeValue(item, attribute.Kind == ValueKind.Integer ? JsText.NumberToString(attribute.Number) : attribute.Str);
                    return JinjaValue.Array(Builtins.StableSort(operand.Items, (a, b) =>
                    {
                        int r = Builtins.Compare(Key(a), Key(b), caseSensitive.Bool);
                        return reverse.Bool ? -r : r;
                    }));
                }
                case "selectattr":
                case "rejectattr":
                {
                    bool select = name == "selectattr";
                    if (operand.Items.Any(x => !x.IsAttributeContainer)) throw Err($"`{name}` can only be applied to array of objects");
                    if (call.Args.Any(x => x is not StringLiteralNode)) throw Err($"arguments of `{name}` must be strings");
                    var evaluated = call.Args.Select(x => Evaluate(x, scope)).ToList();
                    var attr = evaluated.Count > 0 ? evaluated[0] : throw Err("Cannot read properties of undefined (reading 'value')");
                    JinjaValue? testName = evaluated.Count > 1 ? evaluated[1] : null;
                    JinjaValue? value = evaluated.Count > 2 ? evaluated[2] : null;
                    if (testName is not null && !Builtins.IsKnownTest(testName.Str)) throw Err($"Unknown test: {testName.Str}");
                    var filtered = operand.Items.Where(item =>
                    {
                        bool result = item.Map.TryGetValue(attr.Str, out var a)
                            && (testName is null ? a.Truthy : Builtins.RunTest(testName.Str, a, value));
                        return select ? result : !result;
                    }).ToList();
                    return JinjaValue.Array(filtered);
                }
                case "map":
                {
                    var (_, kwargs) = EvaluateArguments(call.Args, scope);
                    if (!kwargs.TryGetValue("attribute", out var attr))
                        throw Err("`map` expressions without `attribute` set are not currently supported.");
                    if (attr.Kind != ValueKind.String) throw Err("attribute must be a string");
                    var def = kwargs.GetValueOrDefault("default");
                    return JinjaValue.Array(operand.Items.Select(item =>
                    {
                        if (!item.IsAttributeContainer) throw Err("items in map must be an object");
                        var v = GetAttributeValue(item, attr.Str);
                        return v.Kind == ValueKind.Undefined ? def ?? JinjaValue.Undefined : v;
                    }).ToList());
                }
            }
            throw Err($"Unknown ArrayValue filter: {name}");
        }
        if (operand.Kind == ValueKind.String)
        {
            switch (name)
            {
                case "indent":
                {
                    var (args, kwargs) = EvaluateArguments(call.Args, scope);
                    var width = Builtins.Arg(args, 0, kwargs, "width") ?? JinjaValue.Int(4);
                    if (width.Kind != ValueKind.Integer) throw Err("width must be a number");
                    var first = Builtins.Arg(args, 1, kwargs, "first") ?? JinjaValue.False;
                    var blank = Builtins.Arg(args, 2, kwargs, "blank") ?? JinjaValue.False;
                    string pad = new(' ', Math.Max(0, (int)width.Number));
                    var lines = operand.Str.Split('\n');
                    return JinjaValue.FromString(string.Join("\n", lines.Select((x, i) =>
                        (!first.Truthy && i == 0) || (!blank.Truthy && x.Length == 0) ? x : pad + x)));
                }
                case "replace":
                {
                    var (args, kwargs) = EvaluateArguments(call.Args, scope);
                    var fn = Builtins.Get(operand, "replace")!;
                    args.Add(JinjaValue.KeywordArguments(kwargs));
                    return fn.Function(args, scope);
                }
            }
            throw Err($"Unknown StringValue filter: {name}");
        }
        if (operand.IsObjectLike)
        {
            var builtin = Builtins.Get(operand, name);
            if (builtin is { Kind: ValueKind.Function })
            {
                var (args, kwargs) = EvaluateArguments(call.Args, scope);
                if (kwargs.Count > 0) args.Add(JinjaValue.KeywordArguments(kwargs));
                return builtin.Function(args, scope);
            }
            throw Err($"Unknown ObjectValue filter: {name}");
        }
        throw Err($"Cannot apply filter \"{name}\" to type: {operand.TypeName}");
    }

    /// <summary>Dotted attribute path lookup used by sort(attribute=) and map(attribute=).</summary>
    private static JinjaValue GetAttributeValue(JinjaValue item, string path)
    {
        var value = item;
        foreach (var part in path.Split('.'))
        {
            if (value.IsAttributeContainer)
            {
                value = value.Map.TryGetValue(part, out var v) ? v : JinjaValue.Undefined;
            }
            else if (value.IsArrayLike)
            {
                double index = JsText.ParseInt(part);
                if (!double.IsNaN(index) && index >= 0 && index < value.Items.Count) value = value.Items[(int)index];
                else return JinjaValue.Undefined;
            }
            else return JinjaValue.Undefined;
        }
        return value;
    }
}
