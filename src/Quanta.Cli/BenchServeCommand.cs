using System.CommandLine;
using System.Globalization;
using Quanta.Bench.Serve;
using Quanta.Engine.Serving;
using Quanta.Server;

namespace Quanta.Cli;

/// <summary>
/// `quanta bench serve --base-url URL --model ID --num-prompts N [--request-rate inf|R[,R…]] [--burstiness B]
/// [--max-concurrency C[,C…]] [--random-input-len L] [--random-output-len L] [--ignore-eos] [--seed S] [--num-warmups W]
/// [--goodput ttft:MS tpot:MS e2el:MS] [--json FILE] [--chart FILE.png|.svg]`: vLLM's `bench serve` against a running
/// OpenAI-compatible server; the result table on stdout, a live progress line on stderr, the JSON result in FILE. Several
/// rates or concurrencies sweep every combination (JSON: an array) and --chart draws latency (TTFT and TPOT, p50 and
/// p99) against output throughput.
/// <para>Subcommands: `overhead --model FILE` (TPOT in process vs through the HTTP server on loopback, alternating) and
/// `scaling --model FILE` (aggregate output tokens/s at 1 and 16 streams, speed-up and fraction of the int8 compute
/// ceiling).</para>
/// </summary>
internal static class BenchServeCommand
{
    public static Command Create()
    {
        var baseUrl = new Option<string?>("--base-url") { Description = "server root, e.g. http://127.0.0.1:8000 (required)" };
        var model = new Option<string?>("--model") { Description = "model id (required)" };
        var num = new Option<int>("--num-prompts") { Description = "measured requests (per load point)", DefaultValueFactory = _ => 1000 };
        var rate = new Option<string[]>("--request-rate") { Description = "requests per second, or inf (all at once); several values (R1,R2 or repeated) sweep", AllowMultipleArgumentsPerToken = true };
        var burst = new Option<double>("--burstiness") { Description = "gamma shape of arrival gaps (1: Poisson)", DefaultValueFactory = _ => 1.0 };
        var conc = new Option<string[]>("--max-concurrency") { Description = "most requests in flight; several values (C1,C2 or repeated) sweep", AllowMultipleArgumentsPerToken = true };
        var inLen = new Option<int>("--random-input-len") { Description = "prompt tokens (random ids)", DefaultValueFactory = _ => 1024 };
        var outLen = new Option<int>("--random-output-len") { Description = "max_tokens", DefaultValueFactory = _ => 128 };
        var vocab = new Option<int>("--random-vocab-size") { Description = "exclusive bound of the random token ids", DefaultValueFactory = _ => 500 };
        var ignoreEos = new Option<bool>("--ignore-eos") { Description = "send ignore_eos: true (when the server accepts it)" };
        var seed = new Option<int>("--seed") { Description = "seed of prompts and arrivals", DefaultValueFactory = _ => 0 };
        var warm = new Option<int>("--num-warmups") { Description = "unmeasured requests first", DefaultValueFactory = _ => 0 };
        var goodput = new Option<string[]>("--goodput") { Description = "SLOs KEY:MS (ttft, tpot, e2el)", AllowMultipleArgumentsPerToken = true };
        var json = new Option<string?>("--json") { Description = "write the result JSON to FILE (an array when sweeping)" };
        var chart = new Option<string?>("--chart") { Description = "write a latency-vs-throughput chart to FILE.png or FILE.svg" };
        var verbose = new Option<bool>("--verbose") { Description = "show stack traces on errors" };
        var cmd = new Command("serve", "Benchmark a running server's /v1/completions under load (vLLM bench serve style).")
        {
            baseUrl, model, num, rate, burst, conc, inLen, outLen, vocab, ignoreEos, seed, warm, goodput, json, chart, verbose,
        };
        cmd.Add(CreateOverhead());
        cmd.Add(CreateScaling());
        cmd.SetAction(p => CliRunner.Run(p.GetValue(verbose), () =>
        {
            string url = p.GetValue(baseUrl) ?? throw new ArgumentException("--base-url is required");
            string id = p.GetValue(model) ?? throw new ArgumentException("--model is required");
            if (!Uri.TryCreate(url, UriKind.Absolute, out Uri? uri)) throw new ArgumentException($"--base-url is not an absolute URL: '{url}'");
            double[] rates = [.. Split(p.GetValue(rate)).Select(ServeBenchOptions.ParseRate)];
            if (rates.Length == 0) rates = [double.PositiveInfinity];
            int?[] concurrencies = [.. Split(p.GetValue(conc)).Select(c => (int?)ParseConcurrency(c))];
            if (concurrencies.Length == 0) concurrencies = [null];
            string? chartPath = p.GetValue(chart);
            if (chartPath is not null && Path.GetExtension(chartPath).ToUpperInvariant() is not (".PNG" or ".SVG"))
                throw new ArgumentException($"--chart must name a .png or .svg file, got '{chartPath}'");
            var points = new List<ServeSweepPoint>();
            bool allDone = true;
            using var http = new HttpClient { Timeout = Timeout.InfiniteTimeSpan };
            foreach (int? c in concurrencies)
            {
                foreach (double r in rates)
                {
                    var options = new ServeBenchOptions
                    {
                        BaseUrl = uri,
                        Model = id,
                        NumPrompts = p.GetValue(num),
                        RequestRate = r,
                        Burstiness = p.GetValue(burst),
                        MaxConcurrency = c,
                        InputLen = p.GetValue(inLen),
                        OutputLen = p.GetValue(outLen),
                        VocabSize = p.GetValue(vocab),
                        IgnoreEos = p.GetValue(ignoreEos),
                        Seed = p.GetValue(seed),
                        NumWarmups = p.GetValue(warm),
                        Goodput = ServeSlo.Parse(p.GetValue(goodput) ?? []),
                    };
                    options.Validate();
                    string label = ServeChart.Label(r, c);
                    using var progress = new Progress("bench serve " + label);
                    var result = ServeBenchRunner.RunAsync(http, options,
                        (done, total) => progress.Report((double)done / total, string.Create(CultureInfo.InvariantCulture, $"{done}/{total} requests")),
                        progress.LineSink()).GetAwaiter().GetResult();
                    progress.Done(string.Create(CultureInfo.InvariantCulture, $"{result.Completed} of {options.NumPrompts} requests in {result.Duration:F1} s"));
                    Console.Out.Write(result.ToTable());
                    points.Add(new ServeSweepPoint(label, result));
                    allDone &= result.Completed == options.NumPrompts;
                }
            }
            string? jsonPath = p.GetValue(json);
            if (jsonPath is not null)
                File.WriteAllText(jsonPath, points.Count == 1 ? points[0].Result.ToJson() : "[\n" + string.Join(",\n", points.Select(x => x.Result.ToJson())) + "\n]\n");
            if (chartPath is not null)
            {
                ServeChart.Write(points, chartPath);
                Console.Error.WriteLine($"chart: {chartPath}");
            }
            return allDone ? 0 : CliRunner.UserError;
        }));
        return cmd;
    }

    private static Command CreateOverhead()
    {
        var model = new Option<string?>("--model") { Description = "model file (GGUF or llama2.c) (required)" };
        var tokenizer = new Option<string?>("--tokenizer") { Description = "tokenizer file (llama2.c models)" };
        var threads = new Option<int>("--threads", "-t") { Description = "engine threads (0: all cores)", DefaultValueFactory = _ => 0 };
        var rounds = new Option<int>("--rounds") { Description = "measured pairs (in process + HTTP, alternating order)", DefaultValueFactory = _ => 10 };
        var promptLen = new Option<int>("--prompt-len") { Description = "prompt tokens (random ids)", DefaultValueFactory = _ => 32 };
        var outputLen = new Option<int>("--output-len") { Description = "generated tokens per request (ignore_eos)", DefaultValueFactory = _ => 64 };
        var seed = new Option<int>("--seed") { Description = "seed of the prompts", DefaultValueFactory = _ => 0 };
        var warmup = new Option<int>("--num-warmups") { Description = "unmeasured pairs of 3-token requests first, so the per-request code of both paths is fully JIT-optimized", DefaultValueFactory = _ => 128 };
        var verbose = new Option<bool>("--verbose") { Description = "show stack traces on errors" };
        var cmd = new Command("overhead", "Per-token latency in process vs through the HTTP server on loopback (same engine, alternating).")
        {
            model, tokenizer, threads, rounds, promptLen, outputLen, seed, warmup, verbose,
        };
        cmd.SetAction(p => CliRunner.Run(p.GetValue(verbose), () =>
        {
            string path = p.GetValue(model) ?? throw new ArgumentException("--model is required");
            if (!File.Exists(path)) throw new FileNotFoundException($"model file not found: {path}", path);
            var options = new ServeOverheadOptions
            {
                Rounds = p.GetValue(rounds), PromptTokens = p.GetValue(promptLen), OutputTokens = p.GetValue(outputLen), Seed = p.GetValue(seed),
                WarmUpRequests = p.GetValue(warmup),
            };
            options.Validate();
            var server = new QuantaServer(new ServerOptions
            {
                Port = 0,
                Logging = false,
                Threads = p.GetValue(threads),
                Tokenizer = p.GetValue(tokenizer),
                Models = [new ModelSpec { Path = path }],
            });
            try
            {
                server.StartAsync().GetAwaiter().GetResult();
                var (id, engine) = server.Engines.Single();
                using var http = new HttpClient { Timeout = Timeout.InfiniteTimeSpan };
                using var progress = new Progress("bench serve overhead");
                ServeOverheadResult result = ServeOverheadRunner.RunAsync(engine, http, server.BaseAddress, id, options,
                    (done, total) => progress.Report((double)done / total, string.Create(CultureInfo.InvariantCulture, $"{done}/{total} rounds"))).GetAwaiter().GetResult();
                progress.Done(string.Create(CultureInfo.InvariantCulture, $"{options.Rounds} rounds"));
                Console.Out.Write(result.ToText());
            }
            finally
            {
                server.DisposeAsync().AsTask().GetAwaiter().GetResult();
            }
            return 0;
        }));
        return cmd;
    }

    private static Command CreateScaling()
    {
        var model = new Option<string?>("--model") { Description = "model file (GGUF or llama2.c) (required)" };
        var tokenizer = new Option<string?>("--tokenizer") { Description = "tokenizer file (llama2.c models)" };
        var threads = new Option<int>("--threads", "-t") { Description = "engine threads (0: all cores)", DefaultValueFactory = _ => 0 };
        var conc = new Option<string[]>("--concurrency") { Description = "streams to measure (C1,C2 or repeated)", AllowMultipleArgumentsPerToken = true };
        var perStream = new Option<int>("--requests-per-stream") { Description = "measured requests per stream", DefaultValueFactory = _ => 2 };
        var promptLen = new Option<int>("--prompt-len") { Description = "prompt tokens (random ids)", DefaultValueFactory = _ => 16 };
        var outputLen = new Option<int>("--output-len") { Description = "generated tokens per request (ignore_eos)", DefaultValueFactory = _ => 128 };
        var gops = new Option<double?>("--int8-gops") { Description = "int8 rate in GOP/s for the compute ceiling (default: measured in the run with the engine's threads; the report also shows the fixed 467 of the reference machine)" };
        var seed = new Option<int>("--seed") { Description = "seed of the prompts", DefaultValueFactory = _ => 0 };
        var verbose = new Option<bool>("--verbose") { Description = "show stack traces on errors" };
        var noWarmUp = new Option<bool>("--no-warmup") { Description = "skip the engine's start-up warm-up (every decode batch size once, before serving)" };
        var stepTable = new Option<bool>("--steps") { Description = "time every engine step and print executor and loop time per batch size" };
        var cacheType = new Option<string>("--cache-type", "-ctk") { Description = "KV cache type f16, f32 or q8_0 (default f16, as quanta serve)", DefaultValueFactory = _ => "f16" };
        var cmd = new Command("scaling", "Aggregate output tokens/s of continuous batching at several stream counts, vs the int8 compute ceiling.")
        {
            model, tokenizer, threads, conc, perStream, promptLen, outputLen, gops, seed, verbose, noWarmUp, stepTable, cacheType,
        };
        cmd.SetAction(p => CliRunner.Run(p.GetValue(verbose), () =>
        {
            string path = p.GetValue(model) ?? throw new ArgumentException("--model is required");
            if (!File.Exists(path)) throw new FileNotFoundException($"model file not found: {path}", path);
            int[] streams = [.. Split(p.GetValue(conc)).Select(ParseConcurrency)];
            if (streams.Length == 0) streams = [1, 16];
            var options = new ServeScalingOptions
            {
                Concurrency = streams,
                RequestsPerStream = p.GetValue(perStream),
                PromptTokens = p.GetValue(promptLen),
                OutputTokens = p.GetValue(outputLen),
                Int8OpsPerSecond = p.GetValue(gops) * 1e9,   // null: measured in the run
                Seed = p.GetValue(seed),
            };
            options.Validate();
            ServeStepTimer? timer = null;
            using ServingEngine engine = ServingEngine.Load(Path.GetFileNameWithoutExtension(path), path, new ServingOptions
            {
                TokenizerPath = p.GetValue(tokenizer),
                Threads = p.GetValue(threads),
                MaxRunning = Math.Max(16, streams.Max()),
                KvCacheType = Quanta.Bench.BenchOptions.ParseKvType(p.GetValue(cacheType) ?? "f16"),
                WarmUp = !p.GetValue(noWarmUp),
                WrapExecutor = p.GetValue(stepTable) ? inner => timer = new ServeStepTimer(inner) : null,
            });
            if (engine.WarmUpResult is { } w)
                Console.Error.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"engine warm-up: {w.Steps} steps (decode batches 1-{w.LargestBatch}, twice, and one prefill chunk) in {w.Elapsed.TotalSeconds:F2} s, slowest step {w.SlowestStep.TotalMilliseconds:F0} ms; decode steps 1-{w.LargestBatch}: first round {w.FirstRound.TotalMilliseconds:F0} ms, last {w.LastRound.TotalMilliseconds:F0} ms"));
            using var progress = new Progress("bench serve scaling");
            ServeScalingResult result = ServeScalingRunner.RunAsync(engine, options, progress.LineSink(), default, timer).GetAwaiter().GetResult();
            progress.Done(string.Create(CultureInfo.InvariantCulture, $"{streams.Length} concurrency levels"));
            Console.Out.Write(result.ToText());
            return 0;
        }));
        return cmd;
    }

    private static IEnumerable<string> Split(string[]? values) =>
        (values ?? []).SelectMany(v => v.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));

    private static int ParseConcurrency(string text) =>
        int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out int c) && c >= 1
            ? c
            : throw new ArgumentException($"concurrency values must be positive integers, got '{text}'");
}
