using System.Text.RegularExpressions;
using Quanta.Core.ModelFiles;
using Quanta.Core.ModelFiles.Onnx;
using Quanta.Models.Graph;
using Xunit.Abstractions;

namespace Quanta.Models.Tests.Graph;

/// <summary>
/// Runs the ONNX backend node tests (Debian package libonnx-testdata) for every test whose nodes all use operators
/// the executor supports, except those listed in node-tests.txt as out of scope (with the reason). Outputs are
/// compared with output_N.pb: floats within |actual − expected| ≤ 1e-5 + 1e-3·|expected| (NaN matches NaN),
/// integers and booleans exactly, shapes exactly; statically inferred output shapes must equal the actual ones.
/// </summary>
public class OnnxNodeTests(ITestOutputHelper output)
{
    private const string Root = "/usr/share/libonnx-testdata/data/node";
    private const double Rtol = 1e-3, Atol = 1e-5;

    private static string ListPath => Path.Combine(AppContext.BaseDirectory, "Graph", "node-tests.txt") is var p && File.Exists(p)
        ? p : Path.Combine(FindRepo(), "tests", "Quanta.Models.Tests", "Graph", "node-tests.txt");

    private static string FindRepo()
    {
        var d = new DirectoryInfo(AppContext.BaseDirectory);
        while (d is not null && !File.Exists(Path.Combine(d.FullName, "Quanta.sln"))) d = d.Parent;
        return d?.FullName ?? throw new InvalidOperationException("repository root not found");
    }

    /// <summary>node-tests.txt: "pattern  reason" lines ('*' wildcards); '#' comments.</summary>
    internal static List<(Regex Pattern, string Text, string Reason)> OutOfScope()
    {
        var r = new List<(Regex, string, string)>();
        foreach (var raw in File.ReadAllLines(ListPath))
        {
            var line = raw.Trim();
            if (line.Length == 0 || line.StartsWith('#')) continue;
            int sp = line.IndexOf(' ');
            string pat = sp < 0 ? line : line[..sp], reason = sp < 0 ? "" : line[sp..].Trim();
            r.Add((new Regex("^" + Regex.Escape(pat).Replace("\\*", ".*") + "$"), pat, reason));
        }
        return r;
    }

    [Fact]
    public void Backend_node_tests_of_supported_operators_pass()
    {
        Assert.True(Directory.Exists(Root), $"{Root} is missing: install the Debian package libonnx-testdata (apt-get install libonnx-testdata)");
        var scope = OutOfScope();
        var supported = new HashSet<string>(GraphOperators.Supported);
        int run = 0, skipped = 0;
        var failures = new List<string>();
        var usedPatterns = new HashSet<string>();
        foreach (var dir in Directory.GetDirectories(Root).OrderBy(d => d, StringComparer.Ordinal))
        {
            string name = Path.GetFileName(dir);
            OnnxModel model;
            try { model = OnnxModel.Load(Path.Combine(dir, "model.onnx")); }
            catch (ModelFileException) { continue; }
            if (model.Graph.Nodes.Count == 0 || !model.Graph.Nodes.All(n => n.Domain is "" or "ai.onnx" && supported.Contains(n.OpType))) continue;
            var hit = scope.FirstOrDefault(s => s.Pattern.IsMatch(name));
            if (hit.Pattern is not null) { skipped++; usedPatterns.Add(hit.Text); continue; }
            run++;
            try
            {
                RunOne(dir, model);
            }
            catch (Exception e)
            {
                failures.Add($"{name}: {e.GetType().Name}: {e.Message.Split('\n')[0]}");
            }
        }
        output.WriteLine($"node tests: {run} run, {run - failures.Count} passed, {skipped} out of scope (node-tests.txt)");
        foreach (var f in failures) output.WriteLine("FAIL " + f);
        var stale = scope.Where(s => !usedPatterns.Contains(s.Text)).Select(s => s.Text).ToList();
        Assert.True(failures.Count == 0, $"{failures.Count} of {run} node tests failed:\n{string.Join("\n", failures)}");
        Assert.True(stale.Count == 0, $"node-tests.txt entries that match no test of a supported operator: {string.Join(", ", stale)}");
        Assert.True(run >= 300, $"only {run} node tests ran");
    }

    private static void RunOne(string dir, OnnxModel model)
    {
        var session = new GraphSession(model);
        var set = Path.Combine(dir, "test_data_set_0");
        var inputs = new Dictionary<string, GraphTensor>();
        var graphInputs = model.Graph.Inputs.Where(i => !model.Graph.Initializers.Any(t => t.Name == i.Name)).ToList();
        for (int i = 0; i < graphInputs.Count; i++)
        {
            var f = Path.Combine(set, $"input_{i}.pb");
            if (!File.Exists(f)) continue;
            inputs[graphInputs[i].Name] = GraphTensor.FromOnnx(OnnxModel.ParseTensor(File.ReadAllBytes(f), f));
        }
        var shapes = session.InferShapes(inputs.ToDictionary(kv => kv.Key, kv => kv.Value.Shape));
        var result = session.Run(inputs);
        for (int i = 0; i < model.Graph.Outputs.Count; i++)
        {
            string outName = model.Graph.Outputs[i].Name;
            var f = Path.Combine(set, $"output_{i}.pb");
            var expected = GraphTensor.FromOnnx(OnnxModel.ParseTensor(File.ReadAllBytes(f), f));
            var actual = result[outName];
            Compare(outName, expected, actual);
            if (shapes.TryGetValue(outName, out var inferred) && inferred is not null && !inferred.SequenceEqual(actual.Shape))
                throw new InvalidOperationException($"output '{outName}': inferred shape [{string.Join(", ", inferred)}] but ran to [{string.Join(", ", actual.Shape)}]");
        }
    }

    internal static void Compare(string name, GraphTensor expected, GraphTensor actual, double rtol = Rtol, double atol = Atol)
    {
        if (!expected.Shape.SequenceEqual(actual.Shape))
            throw new InvalidOperationException($"output '{name}': shape [{string.Join(", ", actual.Shape)}], expected [{string.Join(", ", expected.Shape)}]");
        if (expected.Type != actual.Type) throw new InvalidOperationException($"output '{name}': type {actual.Type}, expected {expected.Type}");
        for (int i = 0; i < expected.Length; i++)
        {
            double e = expected.Get(i), a = actual.Get(i);
            bool ok = expected.Type == TensorElementType.Float32
                ? (double.IsNaN(e) ? double.IsNaN(a) : e == a || Math.Abs(a - e) <= atol + rtol * Math.Abs(e))
                : a == e;
            if (!ok) throw new InvalidOperationException($"output '{name}' element {i}: {a}, expected {e}");
        }
    }
}
