using System.CommandLine;
using System.Globalization;
using Quanta.Bench.Tensor;

namespace Quanta.Cli;

/// <summary>
/// `quanta bench tensor [--model resnet18,resnet18-int8,minilm-16,minilm-128,dlrm|all] [--scenario
/// singlestream,offline,server|all] [--batch 1,8,16,32] [--duration S] [--min-queries N] [--server-qps Q]
/// [--latency-bound-ms MS] [--max-queue-delay-us US] [-t N] [--resnet-dir DIR] [--seed S] [-o md|json] [--json FILE]`:
/// MLPerf LoadGen-style scenarios for the tensor models (see <see cref="TensorBenchRunner"/>); the table on stdout,
/// progress on stderr, the JSON in FILE.
/// </summary>
internal static class BenchTensorCommand
{
    public static Command Create()
    {
        var models = new Option<string>("--model", "-m") { Description = $"models: {string.Join(", ", TensorBenchTarget.KnownNames)} (comma-separated) or all", DefaultValueFactory = _ => "all" };
        var scenarios = new Option<string>("--scenario", "-s") { Description = "singlestream, offline, server (comma-separated) or all", DefaultValueFactory = _ => "all" };
        var batch = new Option<string>("--batch", "-b") { Description = "Offline batch sizes; the largest also caps Server batches", DefaultValueFactory = _ => "1,8,16,32" };
        var duration = new Option<double>("--duration") { Description = "minimum seconds per measurement (Server: seconds of arrivals)", DefaultValueFactory = _ => 10 };
        var minQueries = new Option<int>("--min-queries") { Description = "minimum queries per measurement", DefaultValueFactory = _ => 32 };
        var qps = new Option<double?>("--server-qps") { Description = "Server arrival rate, queries/s (default: half the Offline rate at the largest batch)" };
        var bound = new Option<double?>("--latency-bound-ms") { Description = "Server p99 bound (default per model: resnet18 100, minilm-16 50, minilm-128 200, dlrm 30)" };
        var delay = new Option<long>("--max-queue-delay-us") { Description = "Server batcher's longest wait for a fuller batch", DefaultValueFactory = _ => 2000 };
        var threads = new Option<int>("--threads", "-t") { Description = "graph threads", DefaultValueFactory = _ => Environment.ProcessorCount };
        var resnet = new Option<string?>("--resnet-dir") { Description = "DnnImageModels folder of Microsoft.ML.DnnImageFeaturizer.ResNet18 (default: the NuGet cache's)" };
        var seed = new Option<int>("--seed") { Description = "seed of inputs and arrivals", DefaultValueFactory = _ => 1 };
        var output = new Option<string>("--output", "-o") { Description = "md or json", DefaultValueFactory = _ => "md" };
        var json = new Option<string?>("--json") { Description = "also write the JSON results to FILE" };
        var verbose = new Option<bool>("--verbose") { Description = "show stack traces on errors" };
        var cmd = new Command("tensor", "Benchmark tensor models (ResNet-18, MiniLM, DLRM) in MLPerf LoadGen scenarios.")
        {
            models, scenarios, batch, duration, minQueries, qps, bound, delay, threads, resnet, seed, output, json, verbose,
        };
        cmd.SetAction(p => CliRunner.Run(p.GetValue(verbose), () =>
        {
            string format = p.GetValue(output) ?? "md";
            if (format.ToUpperInvariant() is not ("MD" or "JSON")) throw new ArgumentException($"-o takes md or json, got '{format}'");
            var options = new TensorBenchOptions
            {
                Models = TensorBenchOptions.ParseList(p.GetValue(models) ?? "all", TensorBenchTarget.KnownNames),
                Scenarios = TensorBenchOptions.ParseList(p.GetValue(scenarios) ?? "all", TensorBenchOptions.ScenarioNames),
                BatchSizes = TensorBenchOptions.ParseBatches(p.GetValue(batch) ?? "1"),
                Seconds = p.GetValue(duration),
                MinQueries = p.GetValue(minQueries),
                ServerQps = p.GetValue(qps),
                LatencyBoundMs = p.GetValue(bound),
                MaxQueueDelayMicroseconds = p.GetValue(delay),
                Threads = p.GetValue(threads),
                ResNetFolder = p.GetValue(resnet),
                Seed = p.GetValue(seed),
            };
            options.Validate();
            using var progress = new Progress("bench tensor");
            var results = TensorBenchRunner.RunAsync(options, progress.LineSink()).GetAwaiter().GetResult();
            progress.Done(string.Create(CultureInfo.InvariantCulture, $"{results.Count} measurements in {progress.Elapsed.TotalSeconds:F1} s"));
            Console.Out.Write(TensorBenchReport.Format(results, format));
            if (p.GetValue(json) is { } path) File.WriteAllText(path, TensorBenchReport.ToJson(results));
            return 0;
        }));
        return cmd;
    }
}
