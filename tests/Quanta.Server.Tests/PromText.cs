using System.Globalization;
using System.Text;

namespace Quanta.Server.Tests;

/// <summary>A minimal reader of the Prometheus text format (samples only): name, labels, value.</summary>
internal sealed class PromText
{
    private readonly List<(string Name, Dictionary<string, string> Labels, double Value)> _samples = [];

    public PromText(string text)
    {
        Text = text;
        foreach (string raw in text.Split('\n'))
        {
            string line = raw.TrimEnd('\r');
            if (line.Length == 0 || line[0] == '#') continue;
            int brace = line.IndexOf('{', StringComparison.Ordinal);
            int space = line.LastIndexOf(' ');
            string name;
            var labels = new Dictionary<string, string>(StringComparer.Ordinal);
            if (brace >= 0 && brace < space)
            {
                name = line[..brace];
                int i = brace + 1;
                while (line[i] != '}')
                {
                    int eq = line.IndexOf('=', i);
                    string key = line[i..eq];
                    var v = new StringBuilder();
                    int j = eq + 2;   // after ="
                    for (; line[j] != '"'; j++)
                    {
                        if (line[j] == '\\') { j++; v.Append(line[j] == 'n' ? '\n' : line[j]); }
                        else v.Append(line[j]);
                    }
                    labels[key] = v.ToString();
                    i = j + 1;
                    if (line[i] == ',') i++;
                }
            }
            else name = line[..space];
            string value = line[(space + 1)..];
            double d = value switch { "+Inf" => double.PositiveInfinity, "-Inf" => double.NegativeInfinity, "NaN" => double.NaN, _ => double.Parse(value, CultureInfo.InvariantCulture) };
            _samples.Add((name, labels, d));
        }
    }

    public string Text { get; }

    /// <summary>Sum of the samples named <paramref name="name"/> whose labels include every pair given (0 when none).</summary>
    public double Sum(string name, params (string Key, string Value)[] labels) =>
        Find(name, labels).Sum(s => s.Value);

    /// <summary>True when some sample named <paramref name="name"/> carries the labels given.</summary>
    public bool Has(string name, params (string Key, string Value)[] labels) => Find(name, labels).Any();

    /// <summary>The single sample's value (fails when there is none or several).</summary>
    public double Single(string name, params (string Key, string Value)[] labels)
    {
        var found = Find(name, labels).ToList();
        Assert.True(found.Count == 1, $"expected one sample {name} {string.Join(",", labels)}, found {found.Count} in:\n{Text}");
        return found[0].Value;
    }

    private IEnumerable<(string Name, Dictionary<string, string> Labels, double Value)> Find(string name, (string Key, string Value)[] labels) =>
        _samples.Where(s => s.Name == name && labels.All(l => s.Labels.TryGetValue(l.Key, out string? v) && v == l.Value));
}
