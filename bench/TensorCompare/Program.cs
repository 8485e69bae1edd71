using System.Diagnostics;
using System.Globalization;
using System.Text;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using Quanta.Bench.Tensor;
using Quanta.Models.Embeddings;
using Quanta.Models.Recommendation;
using Quanta.Models.Vision;

// Quanta's tensor models against ONNX Runtime (CPU execution provider) in one process, the two engines alternating:
// each round times every case on Quanta and on ONNX Runtime for --seconds each (the order flips every round), and the
// table reports the median rate per engine and the median of the per-round ratios, against the targets of issue 6.
//   dotnet run -c Release --project bench/TensorCompare -- [--rounds 5] [--seconds 2] [--threads 2] [--cases a,b] [--json FILE] [--profile]
// --sgemm: instead of comparing, prints the SGEMM kernel's GFLOP/s (best of many short runs) on the product shapes the
//   models use, on 1 thread and on --threads threads.
// --profile: instead of comparing, runs each selected Quanta case for --seconds and prints its per-op-type profile.
// Cases: resnet18-fp32-b1, resnet18-fp32-b16 (both engines on copies of the two ResNet graphs with a symbolic batch
// dimension), resnet18-int8-b1 (Quanta INT8 against ONNX Runtime FP32), minilm-b1-t16, minilm-b32-t128 (token ids to
// unit embeddings: both engines run the graph, then the same mean pooling), dlrm-b1, dlrm-b256 (no target).
int rounds = 5, threads = 2;
double seconds = 2;
string? only = null, jsonPath = null;
bool profile = false;
for (int i = 0; i < args.Length; i++)
{
    string Next() => i + 1 < args.Length ? args[++i] : throw new ArgumentException($"{args[i]} needs a value");
    switch (args[i])
    {
        case "--rounds": rounds = int.Parse(Next(), CultureInfo.InvariantCulture); break;
        case "--seconds": seconds = double.Parse(Next(), CultureInfo.InvariantCulture); break;
        case "--threads": threads = int.Parse(Next(), CultureInfo.InvariantCulture); break;
        case "--cases": only = Next(); break;
        case "--json": jsonPath = Next(); break;
        case "--profile": profile = true; break;
        case "--sgemm": return SgemmProbe.Run(threads, seconds);
        default:
            Console.Error.WriteLine("usage: TensorCompare [--rounds N] [--seconds S] [--threads T] [--cases a,b,...] [--json FILE] [--profile | --sgemm]");
            return 2;
    }
}
if (rounds < 1 || !(seconds > 0) || threads < 1)
{
    Console.Error.WriteLine("--rounds, --seconds and --threads must be positive");
    return 2;
}
// Quanta's graph operators read their thread count once, before the first model runs.
Environment.SetEnvironmentVariable("QUANTA_GRAPH_THREADS", threads.ToString(CultureInfo.InvariantCulture));
var selected = only?.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).ToHashSet(StringComparer.Ordinal);
bool Wanted(string name) => selected is null || selected.Contains(name);

using var ortOptions = new SessionOptions { IntraOpNumThreads = threads, InterOpNumThreads = 1, ExecutionMode = ExecutionMode.ORT_SEQUENTIAL };
var cases = new List<Case>();
var disposables = new List<IDisposable>();
var random = new Random(1);
string dnn = Path.Combine(AppContext.BaseDirectory, "DnnImageModels");
string prepPath = Path.Combine(dnn, "ResNetPrepOnnx", "ResNetPreprocess.onnx"), netPath = Path.Combine(dnn, "ResNet18Onnx", "ResNet18.onnx");

float[] RandomImages(int n)
{
    var x = new float[n * 3 * 224 * 224];
    for (int k = 0; k < x.Length; k++) x[k] = random.Next(256);
    return x;
}

OrtResNet OrtResNetFrom(byte[] prep, byte[] net)
{
    var r = new OrtResNet(new InferenceSession(prep, ortOptions), new InferenceSession(net, ortOptions));
    disposables.Add(r);
    return r;
}

if (Wanted("resnet18-fp32-b1") || Wanted("resnet18-int8-b1"))
{
    var ort = OrtResNetFrom(File.ReadAllBytes(prepPath), File.ReadAllBytes(netPath));
    var one = RandomImages(1);
    if (Wanted("resnet18-fp32-b1"))
    {
        var q = ImageFeaturizer.Load(netPath, prepPath);
        cases.Add(new Case("resnet18-fp32-b1", "images", 1, () => q.FeaturizeBatch(one, 1), () => ort.Run(one, 1), 1.0, "FP32 ≥ 1.0× ORT") { SetProfile = p => q.Profile = p });
    }
    if (Wanted("resnet18-int8-b1"))
    {
        var q8 = ImageFeaturizer.Load(netPath, prepPath);
        q8.QuantizeInt8(Enumerable.Range(0, 4).Select(_ => RandomImages(1)).ToArray());
        cases.Add(new Case("resnet18-int8-b1", "images", 1, () => q8.FeaturizeBatch(one, 1), () => ort.Run(one, 1), 1.7, "INT8 ≥ 1.7× ORT FP32") { SetProfile = p => q8.Profile = p });
    }
}
if (Wanted("resnet18-fp32-b16"))
{
    // copies of both graphs with a symbolic batch dimension, run by both engines
    string dir = Directory.CreateTempSubdirectory("quanta-resnet-batch").FullName;
    string prep16 = Path.Combine(dir, "prep.onnx"), net16 = Path.Combine(dir, "net.onnx");
    File.WriteAllBytes(prep16, OnnxSymbolicBatch.Rewrite(File.ReadAllBytes(prepPath)));
    File.WriteAllBytes(net16, OnnxSymbolicBatch.Rewrite(File.ReadAllBytes(netPath)));
    var ort = OrtResNetFrom(File.ReadAllBytes(prep16), File.ReadAllBytes(net16));
    var q = ImageFeaturizer.Load(net16, prep16);
    var sixteen = RandomImages(16);
    cases.Add(new Case("resnet18-fp32-b16", "images", 16, () => q.FeaturizeBatch(sixteen, 16), () => ort.Run(sixteen, 16), 1.0, "FP32 ≥ 1.0× ORT") { SetProfile = p => q.Profile = p });
}
if (Wanted("minilm-b1-t16") || Wanted("minilm-b32-t128"))
{
    var model = EmbeddingModel.LoadDefault();
    var bytes = ManifestResourceReader.Read(EmbeddingModel.DefaultAssemblyPath, EmbeddingModel.MiniLmModelResource);
    var session = new InferenceSession(bytes, ortOptions);
    disposables.Add(session);
    long[][] Sentences(int n, int tokens) => Enumerable.Range(0, n).Select(_ =>
    {
        var ids = new long[tokens];
        ids[0] = model.Tokenizer.Cls;
        for (int k = 1; k < tokens - 1; k++) ids[k] = 1000 + random.Next(model.Tokenizer.VocabularySize - 1000);
        ids[^1] = model.Tokenizer.Sep;
        return ids;
    }).ToArray();
    foreach (var (name, n, t) in new[] { ("minilm-b1-t16", 1, 16), ("minilm-b32-t128", 32, 128) })
    {
        if (!Wanted(name)) continue;
        var s = Sentences(n, t);
        cases.Add(new Case(name, "sentences", n, () => model.EmbedTokens(s), () => OrtMiniLm.Embed(session, s), 1.0, "≥ 1.0× ORT") { SetProfile = p => model.Profile = p });
    }
}
if (Wanted("dlrm-b1") || Wanted("dlrm-b256"))
{
    var shape = new DlrmBenchShape();
    var bytes = DlrmBenchModel.Build(shape, 1);
    var q = DlrmModel.FromBytes(bytes, "dlrm-bench");
    var session = new InferenceSession(bytes, ortOptions);
    disposables.Add(session);
    foreach (int b in new[] { 1, 256 })
    {
        if (!Wanted($"dlrm-b{b}")) continue;
        var (dense, sparse) = DlrmBenchModel.Inputs(shape, b, random);
        cases.Add(new Case($"dlrm-b{b}", "samples", b, () => q.Predict(dense, sparse, b), () =>
        {
            using var r = session.Run([
                NamedOnnxValue.CreateFromTensor("dense", new DenseTensor<float>(dense, [b, CriteoFeatures.DenseCount])),
                NamedOnnxValue.CreateFromTensor("sparse", new DenseTensor<long>(sparse, [b, CriteoFeatures.SparseCount, shape.Bag]))]);
            _ = r.First().AsTensor<float>()[0, 0];
        }, null, "(no target)"));
    }
}
if (cases.Count == 0)
{
    Console.Error.WriteLine("no case selected (resnet18-fp32-b1, resnet18-fp32-b16, resnet18-int8-b1, minilm-b1-t16, minilm-b32-t128, dlrm-b1, dlrm-b256)");
    return 2;
}

Console.Error.WriteLine($"TensorCompare: {cases.Count} cases, {rounds} rounds × {seconds:F1} s per engine, {threads} threads each, ONNX Runtime {OrtEnv.Instance().GetVersionString()}");
foreach (var c in cases)
{
    c.Quanta();
    c.Ort();
}
if (profile)
{
    foreach (var c in cases)
    {
        if (c.SetProfile is null) { Console.Error.WriteLine($"{c.Name}: no graph profile"); continue; }
        var p = new Quanta.Models.Graph.GraphProfile();
        c.SetProfile(p);
        int calls = 0;
        long bytes0 = GC.GetTotalAllocatedBytes(precise: true);
        int[] gc0 = [GC.CollectionCount(0), GC.CollectionCount(1), GC.CollectionCount(2)];
        var sw = Stopwatch.StartNew();
        do { c.Quanta(); calls++; } while (sw.Elapsed.TotalSeconds < seconds);
        c.SetProfile(null);
        double mb = (GC.GetTotalAllocatedBytes(precise: true) - bytes0) / 1048576.0 / calls;
        Console.Out.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{c.Name} ({c.Batch} {c.Unit} per run; whole case {sw.Elapsed.TotalMilliseconds / calls:F3} ms per run, {mb:F2} MiB allocated per run, " +
            $"GCs gen0/1/2 over {calls} runs: {GC.CollectionCount(0) - gc0[0]}/{GC.CollectionCount(1) - gc0[1]}/{GC.CollectionCount(2) - gc0[2]}; graph profile below):\n{p}\n"));
    }
    foreach (var d in disposables) d.Dispose();
    return 0;
}
double Rate(Action run, int batch)
{
    int runs = 0;
    var sw = Stopwatch.StartNew();
    do
    {
        run();
        runs++;
    }
    while (sw.Elapsed.TotalSeconds < seconds);
    return runs * batch / sw.Elapsed.TotalSeconds;
}
for (int round = 0; round < rounds; round++)
{
    foreach (var c in cases)
    {
        double q, o;
        if (round % 2 == 0)
        {
            q = Rate(c.Quanta, c.Batch);
            o = Rate(c.Ort, c.Batch);
        }
        else
        {
            o = Rate(c.Ort, c.Batch);
            q = Rate(c.Quanta, c.Batch);
        }
        c.QuantaRates.Add(q);
        c.OrtRates.Add(o);
        Console.Error.WriteLine(string.Create(CultureInfo.InvariantCulture, $"round {round + 1}: {c.Name}: Quanta {q:F2}/s, ORT {o:F2}/s, ratio {q / o:F3}"));
    }
}

static double Median(IEnumerable<double> v)
{
    var s = v.Order().ToArray();
    return s.Length % 2 == 1 ? s[s.Length / 2] : (s[s.Length / 2 - 1] + s[s.Length / 2]) / 2;
}
var table = new StringBuilder();
table.AppendLine(CultureInfo.InvariantCulture, $"| case | unit | batch | Quanta /s | ORT /s | ratio (median) | ratio range | target | met |");
table.AppendLine("| --- | --- | ---: | ---: | ---: | ---: | ---: | --- | --- |");
var json = new List<string>();
foreach (var c in cases)
{
    var ratios = c.QuantaRates.Zip(c.OrtRates, (q, o) => q / o).ToArray();
    double ratio = Median(ratios);
    string met = c.Target is double t ? (ratio >= t ? "yes" : "NO") : "";
    table.AppendLine(CultureInfo.InvariantCulture,
        $"| {c.Name} | {c.Unit} | {c.Batch} | {Median(c.QuantaRates):F2} | {Median(c.OrtRates):F2} | {ratio:F3} | {ratios.Min():F3}–{ratios.Max():F3} | {c.TargetNote} | {met} |");
    json.Add(string.Create(CultureInfo.InvariantCulture,
        $"{{\"case\":\"{c.Name}\",\"unit\":\"{c.Unit}\",\"batch\":{c.Batch},\"quanta_per_s\":{Median(c.QuantaRates):R},\"ort_per_s\":{Median(c.OrtRates):R},\"ratio\":{ratio:R},\"ratio_min\":{ratios.Min():R},\"ratio_max\":{ratios.Max():R},\"target\":{(c.Target is double tt ? tt.ToString("R", CultureInfo.InvariantCulture) : "null")},\"threads\":{threads},\"rounds\":{rounds}}}"));
}
Console.Out.Write(table.ToString());
if (jsonPath is not null) File.WriteAllText(jsonPath, "[\n" + string.Join(",\n", json) + "\n]\n");
foreach (var d in disposables) d.Dispose();
return 0;

/// <summary>One comparison: a run of each engine over the same inputs (<see cref="Batch"/> samples per run).</summary>
internal sealed record Case(string Name, string Unit, int Batch, Action Quanta, Action Ort, double? Target, string TargetNote)
{
    public List<double> QuantaRates { get; } = [];
    public List<double> OrtRates { get; } = [];
    /// <summary>Sets (or clears) the Quanta graph profile of the case's model; null when the case has none.</summary>
    public Action<Quanta.Models.Graph.GraphProfile?>? SetProfile { get; init; }
}

/// <summary>ML.NET's ResNet-18 pair (preprocessing graph, then the feature graph) in ONNX Runtime.</summary>
internal sealed class OrtResNet(InferenceSession prep, InferenceSession net) : IDisposable
{
    private readonly string _prepInput = prep.InputMetadata.Keys.First(), _netInput = net.InputMetadata.Keys.First();

    public float Run(float[] nchw, int n)
    {
        using var p = prep.Run([NamedOnnxValue.CreateFromTensor(_prepInput, new DenseTensor<float>(nchw, [n, 3, 224, 224]))]);
        var x = p.First().AsTensor<float>();
        using var r = net.Run([NamedOnnxValue.CreateFromTensor(_netInput, x)]);
        return r.First().AsTensor<float>().GetValue(0);
    }

    public void Dispose()
    {
        prep.Dispose();
        net.Dispose();
    }
}

/// <summary>all-MiniLM-L6-v2 in ONNX Runtime: one run over equal-length sequences, then Quanta's mean pooling.</summary>
internal static class OrtMiniLm
{
    public static float[][] Embed(InferenceSession session, long[][] ids)
    {
        int b = ids.Length, t = ids[0].Length;
        var flat = ids.SelectMany(x => x).ToArray();
        var mask = Enumerable.Repeat(1L, b * t).ToArray();
        var inputs = new List<NamedOnnxValue>
        {
            NamedOnnxValue.CreateFromTensor("input_ids", new DenseTensor<long>(flat, [b, t])),
            NamedOnnxValue.CreateFromTensor("attention_mask", new DenseTensor<long>(mask, [b, t])),
        };
        if (session.InputMetadata.ContainsKey("token_type_ids"))
            inputs.Add(NamedOnnxValue.CreateFromTensor("token_type_ids", new DenseTensor<long>(new long[b * t], [b, t])));
        using var r = session.Run(inputs);
        var hidden = r.First().AsTensor<float>().ToArray(); // [b, t, h]
        int h = hidden.Length / (b * t);
        var result = new float[b][];
        for (int i = 0; i < b; i++) result[i] = EmbeddingModel.MeanPoolNormalize(hidden.AsSpan(i * t * h, t * h), mask.AsSpan(i * t, t), h);
        return result;
    }
}
