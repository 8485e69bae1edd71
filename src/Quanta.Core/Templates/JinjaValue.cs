using System.Text;

namespace Quanta.Core.Templates;

/// <summary>Runtime value kinds, one per @huggingface/jinja RuntimeValue class.</summary>
internal enum ValueKind
{
    Undefined,
    Null,
    Boolean,
    Integer,
    Float,
    String,
    Array,
    Tuple,
    Object,
    KeywordArguments,
    Namespace,
    Function,
}

/// <summary>Signature of callable runtime values (globals, methods, macros).</summary>
internal delegate JinjaValue JinjaFunction(List<JinjaValue> args, Scope scope);

/// <summary>
/// A runtime value of the template interpreter. Numbers are doubles like JavaScript's (Integer vs
/// Float only changes printing and arithmetic result kinds); arrays/objects are mutable reference
/// containers whose identity drives <c>==</c> and <c>in</c> as in the JavaScript implementation.
/// </summary>
internal sealed class JinjaValue
{
    public ValueKind Kind { get; }
    public double Number { get; }
    public bool Bool { get; }
    public string Str { get; } = "";
    public List<JinjaValue> Items { get; } = null!;
    public OrderedDictionary<string, JinjaValue> Map { get; } = null!;
    public JinjaFunction Function { get; } = null!;

    public static readonly JinjaValue Undefined = new(ValueKind.Undefined);
    public static readonly JinjaValue Null = new(ValueKind.Null);
    public static readonly JinjaValue True = new(true);
    public static readonly JinjaValue False = new(false);

    private JinjaValue(ValueKind kind) => Kind = kind;
    private JinjaValue(bool b) { Kind = ValueKind.Boolean; Bool = b; }
    private JinjaValue(ValueKind kind, double number) { Kind = kind; Number = number; }
    private JinjaValue(string s) { Kind = ValueKind.String; Str = s; }
    private JinjaValue(ValueKind kind, List<JinjaValue> items) { Kind = kind; Items = items; }
    private JinjaValue(ValueKind kind, OrderedDictionary<string, JinjaValue> map) { Kind = kind; Map = map; }
    private JinjaValue(JinjaFunction f) { Kind = ValueKind.Function; Function = f; }

    public static JinjaValue FromBool(bool b) => b ? True : False;
    public static JinjaValue Int(double v) => new(ValueKind.Integer, v);
    public static JinjaValue Float(double v) => new(ValueKind.Float, v);
    public static JinjaValue FromString(string s) => new(s);
    public static JinjaValue Array(List<JinjaValue> items) => new(ValueKind.Array, items);
    public static JinjaValue Tuple(List<JinjaValue> items) => new(ValueKind.Tuple, items);
    public static JinjaValue Object(OrderedDictionary<string, JinjaValue> map) => new(ValueKind.Object, map);
    public static JinjaValue KeywordArguments(OrderedDictionary<string, JinjaValue> map) => new(ValueKind.KeywordArguments, map);
    public static JinjaValue Namespace(OrderedDictionary<string, JinjaValue> map) => new(ValueKind.Namespace, map);
    public static JinjaValue Func(JinjaFunction f) => new(f);

    public bool IsNumber => Kind is ValueKind.Integer or ValueKind.Float;
    /// <summary>instanceof ArrayValue (arrays and tuples).</summary>
    public bool IsArrayLike => Kind is ValueKind.Array or ValueKind.Tuple;
    /// <summary>instanceof ObjectValue (objects and keyword-argument bags).</summary>
    public bool IsObjectLike => Kind is ValueKind.Object or ValueKind.KeywordArguments;
    /// <summary>Objects and namespaces: values with string-keyed attributes.</summary>
    public bool IsAttributeContainer => IsObjectLike || Kind == ValueKind.Namespace;

    /// <summary>@huggingface/jinja's type names, used in error messages.</summary>
    public string TypeName => Kind switch
    {
        ValueKind.Undefined => "UndefinedValue",
        ValueKind.Null => "NullValue",
        ValueKind.Boolean => "BooleanValue",
        ValueKind.Integer => "IntegerValue",
        ValueKind.Float => "FloatValue",
        ValueKind.String => "StringValue",
        ValueKind.Array => "ArrayValue",
        ValueKind.Tuple => "TupleValue",
        ValueKind.Object => "ObjectValue",
        ValueKind.KeywordArguments => "KeywordArgumentsValue",
        ValueKind.Namespace => "NamespaceValue",
        _ => "FunctionValue",
    };

    /// <summary>Python-style truthiness as @huggingface/jinja defines it (__bool__).</summary>
    public bool Truthy => Kind switch
    {
        ValueKind.Undefined or ValueKind.Null => false,
        ValueKind.Boolean => Bool,
        ValueKind.Integer or ValueKind.Float => Number != 0 && !double.IsNaN(Number),
        ValueKind.String => Str.Length > 0,
        ValueKind.Array or ValueKind.Tuple => Items.Count > 0,
        ValueKind.Object or ValueKind.KeywordArguments => Map.Count > 0,
        _ => true,
    };

    /// <summary>The text a <c>{{ }}</c> prints (RuntimeValue.toString()).</summary>
    public string Render() => Kind switch
    {
        ValueKind.Float => JsText.FloatToString(Number),
        ValueKind.Array or ValueKind.Tuple or ValueKind.Object or ValueKind.KeywordArguments or ValueKind.Namespace
            => JsonWriter.Write(this, JsonOptions.Default, 0, convertUndefinedToNull: false),
        _ => RawToString(),
    };

    /// <summary>JavaScript <c>String(this.value)</c> of the underlying JS value (used by + and ~).</summary>
    public string RawToString() => Kind switch
    {
        ValueKind.Undefined => "undefined",
        ValueKind.Null => "null",
        ValueKind.Boolean => Bool ? "true" : "false",
        ValueKind.Integer or ValueKind.Float => JsText.NumberToString(Number),
        ValueKind.String => Str,
        ValueKind.Array or ValueKind.Tuple => JoinRendered(Items),
        ValueKind.Function => "[function]",
        _ => "[object Map]",
    };

    private static string JoinRendered(List<JinjaValue> items)
    {
        var sb = new StringBuilder();
        for (int i = 0; i < items.Count; i++)
        {
            if (i > 0) sb.Append(',');
            sb.Append(items[i].Render());
        }
        return sb.ToString();
    }

    /// <summary>JavaScript loose equality (<c>==</c>) of the underlying values.</summary>
    public static bool LooseEquals(JinjaValue a, JinjaValue b)
    {
        bool aNullish = a.Kind is ValueKind.Null or ValueKind.Undefined;
        bool bNullish = b.Kind is ValueKind.Null or ValueKind.Undefined;
        if (aNullish || bNullish) return aNullish && bNullish;
        if (a.IsContainer || b.IsContainer)
        {
            if (a.IsContainer && b.IsContainer) return a.SameReference(b);
            // object vs primitive: compare the object's string form
            var obj = a.IsContainer ? a : b;
            var prim = a.IsContainer ? b : a;
            return LooseEquals(FromString(obj.RawToString()), prim);
        }
        if (a.Kind == ValueKind.String && b.Kind == ValueKind.String) return a.Str == b.Str;
        return a.ToJsNumber() == b.ToJsNumber();
    }

    /// <summary>JavaScript strict equality (<c>===</c>) of the underlying values.</summary>
    public static bool StrictEquals(JinjaValue a, JinjaValue b)
    {
        if (a.IsContainer || b.IsContainer) return a.IsContainer && b.IsContainer && a.SameReference(b);
        if (a.Kind == ValueKind.Function || b.Kind == ValueKind.Function) return ReferenceEquals(a.Function, b.Function);
        if (a.IsNumber && b.IsNumber) return a.Number == b.Number;
        if (a.Kind != b.Kind) return false;
        return a.Kind switch
        {
            ValueKind.Boolean => a.Bool == b.Bool,
            ValueKind.String => a.Str == b.Str,
            _ => true, // null === null, undefined === undefined
        };
    }

    /// <summary>Key for JavaScript Set membership (SameValueZero) of the underlying value.</summary>
    public object SetKey() => Kind switch
    {
        ValueKind.Integer or ValueKind.Float => double.IsNaN(Number) ? "NaN#" : (object)(Number == 0 ? 0.0 : Number),
        ValueKind.String => "s:" + Str,
        ValueKind.Boolean => Bool,
        ValueKind.Null => "null#",
        ValueKind.Undefined => "undefined#",
        ValueKind.Array or ValueKind.Tuple => Items,
        ValueKind.Function => Function,
        _ => Map,
    };

    private bool IsContainer => Kind is ValueKind.Array or ValueKind.Tuple or ValueKind.Object or ValueKind.KeywordArguments or ValueKind.Namespace or ValueKind.Function;

    private bool SameReference(JinjaValue other)
    {
        if (IsArrayLike && other.IsArrayLike) return ReferenceEquals(Items, other.Items);
        if (Kind == ValueKind.Function || other.Kind == ValueKind.Function) return ReferenceEquals(Function, other.Function);
        if (Map is not null && other.Map is not null) return ReferenceEquals(Map, other.Map);
        return false;
    }

    private double ToJsNumber() => Kind switch
    {
        ValueKind.Boolean => Bool ? 1 : 0,
        ValueKind.Integer or ValueKind.Float => Number,
        ValueKind.String => StringToNumber(Str),
        _ => double.NaN,
    };

    private static double StringToNumber(string s)
    {
        string t = JsText.Trim(s);
        if (t.Length == 0) return 0;
        if (t is "Infinity" or "+Infinity") return double.PositiveInfinity;
        if (t == "-Infinity") return double.NegativeInfinity;
        if (t.StartsWith("0x", StringComparison.OrdinalIgnoreCase))
            return long.TryParse(t.AsSpan(2), System.Globalization.NumberStyles.HexNumber, System.Globalization.CultureInfo.InvariantCulture, out long h) ? h : double.NaN;
        foreach (char c in t)
            if (!(JsText.IsDigit(c) || c is '.' or 'e' or 'E' or '+' or '-')) return double.NaN;
        return double.TryParse(t, System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out double v) ? v : double.NaN;
    }
}
