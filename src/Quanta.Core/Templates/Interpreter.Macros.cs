namespace Quanta.Core.Templates;

internal sealed partial class Interpreter
{
    private static (string Name, Node? Default) Parameter(Node argument) => argument switch
    {
        IdentifierNode id => (id.Name, null),
        KeywordArgumentNode kw => (kw.Key.Name, kw.Value),
        _ => throw new TemplateException("Expected identifier for parameter declaration"),
    };

    /// <summary>Names among kwargs/varargs that a macro body reads without declaring them.</summary>
    private static HashSet<string> AccessedSpecialArguments(List<Node> parameters, List<Node> body)
    {
        var declared = new HashSet<string>(parameters.Select(p => Parameter(p).Name).Where(n => n is "kwargs" or "varargs"));
        var accessed = new HashSet<string>();
        void Visit(Node? node)
        {
            switch (node)
            {
                case null: return;
                case IdentifierNode id:
                    if (id.Name is "kwargs" or "varargs" && !declared.Contains(id.Name)) accessed.Add(id.Name);
                    return;
                case SetNode s: Visit(s.Value); s.Body.ForEach(Visit); return;
                case ForNode f: Visit(f.Iterable); f.Body.ForEach(Visit); f.DefaultBlock.ForEach(Visit); return;
                case IfNode i: Visit(i.Test); i.Body.ForEach(Visit); i.Alternate.ForEach(Visit); return;
                case MemberNode m: Visit(m.Object); if (m.Computed) Visit(m.Property); return;
                case CallNode c: Visit(c.Callee); c.Args.ForEach(Visit); return;
                case FilterNode f: Visit(f.Operand); if (f.Filter is CallNode fc) fc.Args.ForEach(Visit); return;
                case TestNode t: Visit(t.Operand); return;
                case SelectNode s: Visit(s.Test); Visit(s.Lhs); return;
                case TernaryNode t: Visit(t.Condition); Visit(t.TrueExpr); Visit(t.FalseExpr); return;
                case BinaryNode b: Visit(b.Left); Visit(b.Right); return;
                case UnaryNode u: Visit(u.Argument); return;
                case KeywordArgumentNode kw: Visit(kw.Value); return;
                case SpreadNode sp: Visit(sp.Argument); return;
                case KeywordSpreadNode ks: Visit(ks.Argument); return;
                case ArrayLiteralNode a: a.Items.ForEach(Visit); return;
                case TupleLiteralNode t: t.Items.ForEach(Visit); return;
                case ObjectLiteralNode o: foreach (var (k, v) in o.Entries) { Visit(k); Visit(v); } return;
                case SliceNode sl: Visit(sl.Start); Visit(sl.Stop); Visit(sl.Step); return;
                case MacroNode mac: mac.Body.ForEach(Visit); return;
                case CallStatementNode cs: Visit(cs.Call); cs.Body.ForEach(Visit); return;
                case FilterStatementNode fs: fs.Body.ForEach(Visit); return;
                default: return;
            }
        }
        body.ForEach(Visit);
        return accessed;
    }

    private void BindMacroArguments(string displayName, List<Node> parameters, HashSet<string> special, List<JinjaValue> args, Scope scope)
    {
        var positional = new List<JinjaValue>(args);
        var keyword = new OrderedDictionary<string, JinjaValue>(StringComparer.Ordinal);
        if (positional.Count > 0 && positional[^1].Kind == ValueKind.KeywordArguments)
        {
            foreach (var (k, v) in positional[^1].Map) keyword[k] = v;
            positional.RemoveAt(positional.Count - 1);
        }
        var pending = new List<(string, Node)>();
        for (int i = 0; i < parameters.Count; i++)
        {
            var (name, def) = Parameter(parameters[i]);
            JinjaValue? value = i < positional.Count ? positional[i] : null;
            if (value is null && keyword.TryGetValue(name, out var kv))
            {
                value = kv;
                keyword.Remove(name);
            }
            if (value is null && def is not null) pending.Add((name, def));
            scope.Set(name, value ?? JinjaValue.Undefined);
        }
        if (special.Contains("kwargs")) scope.Set("kwargs", JinjaValue.Object(keyword));
        else if (keyword.Count > 0) throw new TemplateException($"macro {displayName} takes no keyword argument '{keyword.GetAt(0).Key}'");
        if (special.Contains("varargs")) scope.Set("varargs", JinjaValue.Array(positional.Skip(parameters.Count).ToList()));
        else if (positional.Count > parameters.Count) throw new TemplateException($"macro {displayName} takes not more than {parameters.Count} argument(s)");
        foreach (var (name, def) in pending) scope.Set(name, Evaluate(def, scope));
    }

    private JinjaValue EvaluateMacro(MacroNode node, Scope environment)
    {
        var special = AccessedSpecialArguments(node.Args, node.Body);
        environment.Set(node.Name.Name, JinjaValue.Func((args, callerScope) =>
        {
            var macroScope = new Scope(callerScope);
            BindMacroArguments($"'{node.Name.Name}'", node.Args, special, args, macroScope);
            return JinjaValue.FromString(EvaluateBlock(node.Body, macroScope));
        }));
        return JinjaValue.Null;
    }

    private JinjaValue EvaluateCallStatement(CallStatementNode node, Scope environment)
    {
        var parameters = node.CallerArgs ?? [];
        var special = AccessedSpecialArguments(parameters, node.Body);
        var caller = JinjaValue.Func((callerArgs, _) =>
        {
            var callBlockEnv = new Scope(environment);
            BindMacroArguments("None", parameters, special, callerArgs, callBlockEnv);
            return JinjaValue.FromString(EvaluateBlock(node.Body, callBlockEnv));
        });
        var (macroArgs, macroKwargs) = EvaluateArguments(node.Call.Args, environment);
        macroArgs.Add(JinjaValue.KeywordArguments(macroKwargs));
        var fn = Evaluate(node.Call.Callee, environment);
        if (fn.Kind != ValueKind.Function) throw new TemplateException($"Cannot call something that is not a function: got {fn.TypeName}");
        var newEnv = new Scope(environment);
        newEnv.Set("caller", caller);
        return fn.Function(macroArgs, newEnv);
    }
}
