using System.Text;

namespace Quanta.Core.Templates;

/// <summary>
/// Tree-walking evaluator of a parsed template with @huggingface/jinja 0.5.11 semantics.
/// Runtime errors are <see cref="TemplateException"/>s carrying the position of the innermost
/// node that failed.
/// </summary>
internal sealed partial class Interpreter
{
    private enum Control { None, Break, Continue }

    private readonly SourceText _source;
    private Control _control;

    public Interpreter(SourceText source) => _source = source;

    public string Run(TemplateProgram program, Scope global)
    {
        string result = EvaluateBlock(program.Body, global);
        if (_control != Control.None) throw new TemplateException($"'{_control.ToString().ToLowerInvariant()}' outside of a loop");
        return result;
    }

    private string EvaluateBlock(List<Node> statements, Scope scope)
    {
        var sb = new StringBuilder();
        foreach (var statement in statements)
        {
            var v = Evaluate(statement, scope);
            if (_control != Control.None) return sb.ToString();
            if (v.Kind is not (ValueKind.Null or ValueKind.Undefined)) sb.Append(v.Render());
        }
        return sb.ToString();
    }

    private TemplateException At(Node node, TemplateException inner)
    {
        if (inner.Line > 0) return inner;
        var (line, col) = _source.Position(node.Offset);
        return new TemplateException(inner.Reason, line, col, inner.IsRaisedByTemplate);
    }

    private JinjaValue Evaluate(Node? node, Scope scope)
    {
        if (node is null) return JinjaValue.Undefined;
        try
        {
            return EvaluateCore(node, scope);
        }
        catch (TemplateException e) when (e.Line == 0)
        {
            throw At(node, e);
        }
    }

    private JinjaValue EvaluateCore(Node node, Scope scope)
    {
        switch (node)
        {
            case TemplateProgram p: return JinjaValue.FromString(EvaluateBlock(p.Body, scope));
            case SetNode s: return EvaluateSet(s, scope);
            case IfNode i:
                return JinjaValue.FromString(EvaluateBlock(Evaluate(i.Test, scope).Truthy ? i.Body : i.Alternate, scope));
            case ForNode f: return EvaluateFor(f, scope);
            case MacroNode m: return EvaluateMacro(m, scope);
            case CallStatementNode c: return EvaluateCallStatement(c, scope);
            case BreakNode: _control = Control.Break; return JinjaValue.Null;
            case ContinueNode: _control = Control.Continue; return JinjaValue.Null;
            case IntegerLiteralNode n: return JinjaValue.Int(n.Value);
            case FloatLiteralNode n: return JinjaValue.Float(n.Value);
            case StringLiteralNode n: return JinjaValue.FromString(n.Value);
            case ArrayLiteralNode a: return JinjaValue.Array(a.Items.Select(x => Evaluate(x, scope)).ToList());
            case TupleLiteralNode t: return JinjaValue.Tuple(t.Items.Select(x => Evaluate(x, scope)).ToList());
            case ObjectLiteralNode o:
            {
                var map = new OrderedDictionary<string, JinjaValue>(StringComparer.Ordinal);
                foreach (var (k, v) in o.Entries)
                {
                    var key = Evaluate(k, scope);
                    if (key.Kind != ValueKind.String) throw new TemplateException($"Object keys must be strings: got {key.TypeName}");
                    map[key.Str] = Evaluate(v, scope);
                }
                return JinjaValue.Object(map);
            }
            case IdentifierNode id: return scope.Lookup(id.Name);
            case CallNode c: return EvaluateCall(c, scope);
            case MemberNode m: return EvaluateMember(m, scope);
            case UnaryNode u: return EvaluateUnary(u, scope);
            case BinaryNode b: return EvaluateBinary(b, scope);
            case FilterNode f: return ApplyFilter(Evaluate(f.Operand, scope), f.Filter, scope);
            case FilterStatementNode fs: return ApplyFilter(JinjaValue.FromString(EvaluateBlock(fs.Body, scope)), fs.Filter, scope);
            case TestNode t:
            {
                var operand = Evaluate(t.Operand, scope);
                if (!Builtins.IsKnownTest(t.Test)) throw new TemplateException($"Unknown test: {t.Test}");
                bool r = Builtins.RunTest(t.Test, operand, null);
                return JinjaValue.FromBool(t.Negate ? !r : r);
            }
            case SelectNode s:
                return Evaluate(s.Test, scope).Truthy ? Evaluate(s.Lhs, scope) : JinjaValue.Undefined;
            case TernaryNode t:
                return Evaluate(t.Condition, scope).Truthy ? Evaluate(t.TrueExpr, scope) : Evaluate(t.FalseExpr, scope);
            case CommentNode: return JinjaValue.Null;
            default:
                throw new TemplateException($"Unknown node type: {node.GetType().Name}");
        }
    }

    private JinjaValue EvaluateUnary(UnaryNode node, Scope scope)
    {
        var arg = Evaluate(node.Argument, scope);
        if (node.Operator == "not") return JinjaValue.FromBool(!arg.Truthy);
        double sign = node.Operator == "-" ? -1 : 1;
        if (arg.IsNumber || arg.Kind == ValueKind.Boolean)
        {
            double v = arg.Kind == ValueKind.Boolean ? (arg.Bool ? 1 : 0) : arg.Number;
            double r = sign * v;
            return arg.Kind == ValueKind.Float ? JinjaValue.Float(r) : JinjaValue.Int(r);
        }
        throw new TemplateException($"Unknown operator \"{node.Operator}\" for {arg.TypeName}");
    }

    private JinjaValue EvaluateBinary(BinaryNode node, Scope scope)
    {
        var left = Evaluate(node.Left, scope);
        string op = node.Operator;
        if (op == "and") return left.Truthy ? Evaluate(node.Right, scope) : left;
        if (op == "or") return left.Truthy ? left : Evaluate(node.Right, scope);
        var right = Evaluate(node.Right, scope);
        if (op == "==") return JinjaValue.FromBool(JinjaValue.LooseEquals(left, right));
        if (op == "!=") return JinjaValue.FromBool(!JinjaValue.LooseEquals(left, right));

        if (left.Kind == ValueKind.Undefined || right.Kind == ValueKind.Undefined)
        {
            if (right.Kind == ValueKind.Undefined && op is "in" or "not in") return JinjaValue.FromBool(op == "not in");
            throw new TemplateException($"Cannot perform operation {op} on undefined values");
        }
        if (left.Kind == ValueKind.Null || right.Kind == ValueKind.Null)
            throw new TemplateException("Cannot perform operation on null values");
        if (op == "~") return JinjaValue.FromString(left.RawToString() + right.RawToString());
        bool leftNumLike = left.IsNumber || left.Kind == ValueKind.Boolean, rightNumLike = right.IsNumber || right.Kind == ValueKind.Boolean;
        if (op == "**" && leftNumLike && rightNumLike)
        {
            double a = left.Kind == ValueKind.Boolean ? (left.Bool ? 1 : 0) : left.Number;
            double b = right.Kind == ValueKind.Boolean ? (right.Bool ? 1 : 0) : right.Number;
            if (a == 0 && b < 0) throw new TemplateException("0.0 cannot be raised to a negative power");
            double r = Math.Pow(a, b);
            if (!double.IsFinite(r)) throw new TemplateException("Exponentiation result is not a finite real number");
            bool isFloat = left.Kind == ValueKind.Float || right.Kind == ValueKind.Float || b < 0;
            return isFloat ? JinjaValue.Float(r) : JinjaValue.Int(r);
        }
        if (left.IsNumber && right.IsNumber)
        {
            double a = left.Number, b = right.Number;
            bool isFloat = left.Kind == ValueKind.Float || right.Kind == ValueKind.Float;
            switch (op)
            {
                case "+": return Num(a + b, isFloat);
                case "-": return Num(a - b, isFloat);
                case "*": return Num(a * b, isFloat);
                case "/": return JinjaValue.Float(a / b);
                case "//": return Num(Math.Floor(a / b), isFloat);
                case "%": return Num(a % b, isFloat);
                case "<": return JinjaValue.FromBool(a < b);
                case ">": return JinjaValue.FromBool(a > b);
                case ">=": return JinjaValue.FromBool(a >= b);
                case "<=": return JinjaValue.FromBool(a <= b);
            }
        }
        else if (left.IsArrayLike && right.IsArrayLike)
        {
            if (op == "+") return JinjaValue.Array([.. left.Items, .. right.Items]);
        }
        else if (right.IsArrayLike)
        {
            bool member = right.Items.Any(x => JinjaValue.StrictEquals(x, left));
            if (op == "in") return JinjaValue.FromBool(member);
            if (op == "not in") return JinjaValue.FromBool(!member);
        }
        if ((left.Kind == ValueKind.String || right.Kind == ValueKind.String) && op == "+")
            return JinjaValue.FromString(left.RawToString() + right.RawToString());
        if (left.Kind == ValueKind.String && right.Kind == ValueKind.String)
        {
            if (op == "in") return JinjaValue.FromBool(right.Str.Contains(left.Str, StringComparison.Ordinal));
            if (op == "not in") return JinjaValue.FromBool(!right.Str.Contains(left.Str, StringComparison.Ordinal));
        }
        if (left.Kind == ValueKind.String && right.IsObjectLike)
        {
            if (op == "in") return JinjaValue.FromBool(right.Map.ContainsKey(left.Str));
            if (op == "not in") return JinjaValue.FromBool(!right.Map.ContainsKey(left.Str));
        }
        throw new TemplateException($"Unknown operator \"{op}\" between {left.TypeName} and {right.TypeName}");
    }

    private static JinjaValue Num(double v, bool isFloat) => isFloat ? JinjaValue.Float(v) : JinjaValue.Int(v);

    private (List<JinjaValue> Positional, OrderedDictionary<string, JinjaValue> Keyword) EvaluateArguments(List<Node> args, Scope scope)
    {
        var positional = new List<JinjaValue>();
        var keyword = new OrderedDictionary<string, JinjaValue>(StringComparer.Ordinal);
        foreach (var a in args)
        {
            if (a is SpreadNode sp)
            {
                var v = Evaluate(sp.Argument, scope);
                if (!v.IsArrayLike) throw new TemplateException($"Cannot unpack non-iterable type: {v.TypeName}");
                positional.AddRange(v.Items);
            }
            else if (a is not (KeywordArgumentNode or KeywordSpreadNode))
            {
                positional.Add(Evaluate(a, scope));
            }
        }
        foreach (var a in args)
        {
            if (a is KeywordArgumentNode kw)
            {
                if (keyword.ContainsKey(kw.Key.Name)) throw new TemplateException($"Got multiple values for keyword argument '{kw.Key.Name}'");
                keyword[kw.Key.Name] = Evaluate(kw.Value, scope);
            }
            else if (a is KeywordSpreadNode ks)
            {
                var v = Evaluate(ks.Argument, scope);
                if (!v.IsObjectLike) throw new TemplateException($"Argument after ** must be a mapping, not {v.TypeName}");
                foreach (var (k, val) in v.Map)
                {
                    if (keyword.ContainsKey(k)) throw new TemplateException($"Got multiple values for keyword argument '{k}'");
                    keyword[k] = val;
                }
            }
        }
        return (positional, keyword);
    }

    private JinjaValue EvaluateCall(CallNode node, Scope scope)
    {
        var (args, kwargs) = EvaluateArguments(node.Args, scope);
        if (kwargs.Count > 0) args.Add(JinjaValue.KeywordArguments(kwargs));
        var fn = Evaluate(node.Callee, scope);
        if (fn.Kind != ValueKind.Function) throw new TemplateException($"Cannot call something that is not a function: got {fn.TypeName}");
        return fn.Function(args, scope);
    }

    private JinjaValue EvaluateSlice(JinjaValue obj, SliceNode s, Scope scope)
    {
        if (!(obj.IsArrayLike || obj.Kind == ValueKind.String)) throw new TemplateException("Slice object must be an array or string");
        var start = Evaluate(s.Start, scope);
        var stop = Evaluate(s.Stop, scope);
        var step = Evaluate(s.Step, scope);
        if (start.Kind is not (ValueKind.Integer or ValueKind.Undefined)) throw new TemplateException("Slice start must be numeric or undefined");
        if (stop.Kind is not (ValueKind.Integer or ValueKind.Undefined)) throw new TemplateException("Slice stop must be numeric or undefined");
        if (step.Kind is not (ValueKind.Integer or ValueKind.Undefined)) throw new TemplateException("Slice step must be numeric or undefined");
        double? a = start.Kind == ValueKind.Integer ? start.Number : null;
        double? b = stop.Kind == ValueKind.Integer ? stop.Number : null;
        double c = step.Kind == ValueKind.Integer ? step.Number : 1;
        if (obj.IsArrayLike) return JinjaValue.Array(Slice(obj.Items, a, b, c));
        var codePoints = CodePoints(obj.Str);
        return JinjaValue.FromString(string.Concat(Slice(codePoints, a, b, c)));
    }

    /// <summary>Array.from(string): the string's code points (surrogate pairs kept together).</summary>
    internal static List<string> CodePoints(string s)
    {
        var list = new List<string>(s.Length);
        for (int i = 0; i < s.Length; i++)
        {
            if (char.IsHighSurrogate(s[i]) && i + 1 < s.Length && char.IsLowSurrogate(s[i + 1])) { list.Add(s.Substring(i, 2)); i++; }
            else list.Add(s[i].ToString());
        }
        return list;
    }

    private static List<T> Slice<T>(List<T> array, double? startArg, double? stopArg, double step)
    {
        if (step == 0) return []; // JS loop never advances past the bound check; treat as empty
        int dir = Math.Sign(step);
        double len = array.Count;
        double start, stop;
        if (dir >= 0)
        {
            double s0 = startArg ?? 0;
            start = s0 < 0 ? Math.Max(len + s0, 0) : Math.Min(s0, len);
            double e0 = stopArg ?? len;
            stop = e0 < 0 ? Math.Max(len + e0, 0) : Math.Min(e0, len);
        }
        else
        {
            double s0 = startArg ?? len - 1;
            start = s0 < 0 ? Math.Max(len + s0, -1) : Math.Min(s0, len - 1);
            double e0 = stopArg ?? -1;
            stop = e0 < -1 ? Math.Max(len + e0, -1) : Math.Min(e0, len - 1);
        }
        var result = new List<T>();
        for (double i = start; dir * i < dir * stop; i += step) result.Add(array[(int)i]);
        return result;
    }

    private JinjaValue EvaluateMember(MemberNode node, Scope scope)
    {
        var obj = Evaluate(node.Object, scope);
        JinjaValue property;
        if (node.Computed)
        {
            if (node.Property is SliceNode s) return EvaluateSlice(obj, s, scope);
            property = Evaluate(node.Property, scope);
        }
        else if (node.Property is IntegerLiteralNode il) property = JinjaValue.Int(il.Value);
        else property = JinjaValue.FromString(((IdentifierNode)node.Property).Name);

        JinjaValue? value;
        if (obj.IsAttributeContainer)
        {
            if (property.Kind != ValueKind.String) throw new TemplateException($"Cannot access property with non-string: got {property.TypeName}");
            value = obj.Map.TryGetValue(property.Str, out var v) ? v : obj.IsObjectLike ? Builtins.Get(obj, property.Str) : null;
        }
        else if (obj.IsArrayLike || obj.Kind == ValueKind.String)
        {
            if (property.Kind == ValueKind.Integer)
            {
                int count = obj.IsArrayLike ? obj.Items.Count : obj.Str.Length;
                double idx = property.Number < 0 ? count + property.Number : property.Number;
                if (idx < 0 || idx >= count) value = null;
                else value = obj.IsArrayLike ? obj.Items[(int)idx] : JinjaValue.FromString(obj.Str[(int)idx].ToString());
            }
            else if (property.Kind == ValueKind.String) value = Builtins.Get(obj, property.Str);
            else throw new TemplateException($"Cannot access property with non-string/non-number: got {property.TypeName}");
        }
        else
        {
            if (property.Kind != ValueKind.String) throw new TemplateException($"Cannot access property with non-string: got {property.TypeName}");
            value = Builtins.Get(obj, property.Str);
        }
        return value ?? JinjaValue.Undefined;
    }

    private JinjaValue EvaluateSet(SetNode node, Scope scope)
    {
        JinjaValue rhs;
        if (node.Value is not null) rhs = Evaluate(node.Value, scope);
        else
        {
            rhs = JinjaValue.FromString(EvaluateBlock(node.Body, scope));
            if (_control != Control.None) return JinjaValue.Null;
        }
        switch (node.Assignee)
        {
            case IdentifierNode id:
                scope.Set(id.Name, rhs);
                break;
            case TupleLiteralNode tuple:
            {
                if (!rhs.IsArrayLike) throw new TemplateException($"Cannot unpack non-iterable type in set: {rhs.TypeName}");
                if (rhs.Items.Count != tuple.Items.Count)
                    throw new TemplateException($"Too {(tuple.Items.Count > rhs.Items.Count ? "few" : "many")} items to unpack in set");
                for (int i = 0; i < tuple.Items.Count; i++)
                {
                    if (tuple.Items[i] is not IdentifierNode el) throw new TemplateException("Cannot unpack to non-identifier in set");
                    scope.Set(el.Name, rhs.Items[i]);
                }
                break;
            }
            case MemberNode member:
            {
                var obj = Evaluate(member.Object, scope);
                if (obj.Kind != ValueKind.Namespace) throw new TemplateException("cannot assign attribute on non-namespace object");
                if (member.Property is not IdentifierNode prop) throw new TemplateException("Cannot assign to member with non-identifier property");
                obj.Map[prop.Name] = rhs;
                break;
            }
            default:
                throw new TemplateException("Invalid LHS inside assignment expression");
        }
        return JinjaValue.Null;
    }

    private JinjaValue EvaluateFor(ForNode node, Scope environment)
    {
        var scope = new Scope(environment);
        Node? test = null;
        JinjaValue iterable;
        if (node.Iterable is SelectNode select)
        {
            iterable = Evaluate(select.Lhs, scope);
            test = select.Test;
        }
        else iterable = Evaluate(node.Iterable, scope);
        if (!(iterable.IsArrayLike || iterable.IsObjectLike))
            throw new TemplateException($"Expected iterable or object type in for loop: got {iterable.TypeName}");
        if (iterable.IsObjectLike) iterable = Builtins.Keys(iterable);

        void Bind(Scope target, JinjaValue current)
        {
            if (node.LoopVar is IdentifierNode id)
            {
                target.Set(id.Name, current);
                return;
            }
            var tuple = (TupleLiteralNode)node.LoopVar;
            if (current.Kind != ValueKind.Array) throw new TemplateException($"Cannot unpack non-iterable type: {current.TypeName}");
            if (tuple.Items.Count != current.Items.Count)
                throw new TemplateException($"Too {(tuple.Items.Count > current.Items.Count ? "few" : "many")} items to unpack");
            for (int j = 0; j < tuple.Items.Count; j++)
            {
                if (tuple.Items[j] is not IdentifierNode el) throw new TemplateException("Cannot unpack non-identifier type");
                target.Set(el.Name, current.Items[j]);
            }
        }

        var items = new List<JinjaValue>();
        foreach (var current in iterable.Items)
        {
            if (test is not null)
            {
                var loopScope = new Scope(scope);
                Bind(loopScope, current);
                if (!Evaluate(test, loopScope).Truthy) continue;
            }
            else if (node.LoopVar is TupleLiteralNode)
            {
                Bind(new Scope(scope), current); // validate unpacking up front, like the JS implementation
            }
            items.Add(current);
        }

        var sb = new StringBuilder();
        bool noIteration = true;
        for (int i = 0; i < items.Count; i++)
        {
            var loop = new OrderedDictionary<string, JinjaValue>(StringComparer.Ordinal)
            {
                ["index"] = JinjaValue.Int(i + 1),
                ["index0"] = JinjaValue.Int(i),
                ["revindex"] = JinjaValue.Int(items.Count - i),
                ["revindex0"] = JinjaValue.Int(items.Count - i - 1),
                ["first"] = JinjaValue.FromBool(i == 0),
                ["last"] = JinjaValue.FromBool(i == items.Count - 1),
                ["length"] = JinjaValue.Int(items.Count),
                ["previtem"] = i > 0 ? items[i - 1] : JinjaValue.Undefined,
                ["nextitem"] = i < items.Count - 1 ? items[i + 1] : JinjaValue.Undefined,
            };
            scope.Set("loop", JinjaValue.Object(loop));
            Bind(scope, items[i]);
            string body = EvaluateBlock(node.Body, scope);
            if (_control == Control.Continue) { _control = Control.None; continue; }
            if (_control == Control.Break) { _control = Control.None; break; }
            sb.Append(body);
            noIteration = false;
        }
        if (noIteration) sb.Append(EvaluateBlock(node.DefaultBlock, scope));
        return JinjaValue.FromString(sb.ToString());
    }
}
