using System.CommandLine;
using System.Globalization;
using Quanta.Bench.Serve;

namespace Quanta.Cli;

/// <summary>
/// `quanta bench serve --base-url URL --model ID --num-prompts N [--request-rate inf|R] [--burstiness B]
/// [--max-concurrency C] [--random-input-len L] [--random-output-len L] [--ignore-eos] [--seed S] [--num-warmups W]
/// [--goodput ttft:MS tpot:MS e2el:MS] [--json FILE]`: vLLM's `bench serve` against a running OpenAI-compatible
/// server; the result table on stdout, a live progress line on stderr, the JSON result in FILE.
/// </summary>
internal static class BenchServeCommand
{
    public static Command Create()
    {
        var baseUrl = new Option<string>("--base-url") { Description = "server root, e.g. http://127.0.0.1:8000", Required = true };
        var model = new Option<string>("--model") { Description = "model id", Required = true };
        var num = new Option<int>("--num-prompts") { Description = "measured requests", DefaultValueFactory = _ => 1000 };
        var rate = new Option<string>("--request-rate") { Description = "requests per second, or inf (all at once)", DefaultValueFactory = _ => "inf" };
        var burst = new Option<double>("--burstiness") { Description = "gamma shape of arrival gaps (1: Poisson)", DefaultValueFactory = _ => 1.0 };
        var conc = new Option<int?>("--max-concurrency") { Description = "most requests in flight" };
        var inLen = new Option<int>("--random-input-len") { Description = "prompt tokens (random ids)", DefaultValueFactory = _ => 1024 };
        var outLen = new Option<int>("--random-output-len") { Description = "max_tokens", DefaultValueFactory = _ => 128 };
        var vocab = new Option<int>("--random-vocab-size") { Description = "exclusive bound of the random token ids", DefaultValueFactory = _ => 500 };
        var ignoreEos = new Option<bool>("--ignore-eos") { Description = "send ignore_eos: true (when the server accepts it)" };
        var seed = new Option<int>("--seed") { Description = "seed of prompts and arrivals", DefaultValueFactory = _ => 0 };
        var warm = new Option<int>("--num-warmups") { Description = "unmeasured requests first", DefaultValueFactory = _ => 0 };
        var goodput = new Option<string[]>("--goodput") { Description = "SLOs KEY:MS (ttft, tpot, e2el)", AllowMultipleArgumentsPerToken = true };
        var json = new Option<string?>("--json") { Description = "write the result JSON to FILE" };
        var verbose = new Option<bool>("--verbose") { Description = "show stack traces on errors" };
        var cmd = new Command("serve", "Benchmark a running server's /v1/completions under load (vLLM bench serve style).")
        {
            baseUrl, model, num, rate, burst, conc, inLen, outLen, vocab, ignoreEos, seed, warm, goodput, json, verbose,
        };
        cmd.SetAction(p => CliRunner.Run(p.GetValue(verbose), () =>
        {
            string url = p.GetValue(baseUrl)!;
            if (!Uri.TryCreate(url, UriKind.Absolute, out Uri? uri)) throw new ArgumentException($"--base-url is not an absolute URL: '{url}'");
            var options = new ServeBenchOptions
            {
                BaseUrl = uri,
                Model = p.GetValue(model)!,
                NumPrompts = p.GetValue(num),
                RequestRate = ServeBenchOptions.ParseRate(p.GetValue(rate) ?? "inf"),
                Burstiness = p.GetValue(burst),
                MaxConcurrency = p.GetValue(conc),
                InputLen = p.GetValue(inLen),
                OutputLen = p.GetValue(outLen),
                VocabSize = p.GetValue(vocab),
                IgnoreEos = p.GetValue(ignoreEos),
                Seed = p.GetValue(seed),
                NumWarmups = p.GetValue(warm),
                Goodput = ServeSlo.Parse(p.GetValue(goodput) ?? []),
            };
            options.Validate();
            using var http = new HttpClient { Timeout = Timeout.InfiniteTimeSpan };
            using var progress = new Progress("bench serve");
            var result = ServeBenchRunner.RunAsync(http, options,
                (done, total) => progress.Report((double)done / total, string.Create(CultureInfo.InvariantCulture, $"{done}/{total} requests")),
                progress.LineSink()).GetAwaiter().GetResult();
            progress.Done(string.Create(CultureInfo.InvariantCulture, $"{result.Completed} of {options.NumPrompts} requests in {result.Duration:F1} s"));
            Console.Out.Write(result.ToTable());
            string? jsonPath = p.GetValue(json);
            if (jsonPath is not null) File.WriteAllText(jsonPath, result.ToJson());
            return result.Completed == options.NumPrompts ? 0 : CliRunner.UserError;
        }));
        return cmd;
    }
}
