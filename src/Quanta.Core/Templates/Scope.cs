namespace Quanta.Core.Templates;

/// <summary>A variable scope (for-loop bodies and macro calls open child scopes; if/set do not).</summary>
internal sealed class Scope(Scope? parent)
{
    private readonly Dictionary<string, JinjaValue> _variables = new(StringComparer.Ordinal);

    public Scope? Parent { get; } = parent;

    /// <summary>Sets a variable in this scope.</summary>
    public void Set(string name, JinjaValue value) => _variables[name] = value;

    /// <summary>Declares a context variable; fails on a duplicate (e.g. a context key shadowing a global).</summary>
    public void Declare(string name, JinjaValue value)
    {
        if (!_variables.TryAdd(name, value)) throw new TemplateException($"Variable already declared: {name}");
    }

    /// <summary>Looks a name up through the parent chain; Undefined when absent.</summary>
    public JinjaValue Lookup(string name)
    {
        for (var s = this; s is not null; s = s.Parent)
        {
            if (s._variables.TryGetValue(name, out var v)) return v;
        }
        return JinjaValue.Undefined;
    }
}
