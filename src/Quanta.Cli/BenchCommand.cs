using System.CommandLine;
using System.Globalization;
using Quanta.Bench;
using Quanta.Models.Conversion;

namespace Quanta.Cli;

/// <summary>
/// `quanta bench --model FILE [-p 512] [-n 128] [-r 5] [-t N] [-d DEPTH] [--pg P,N] [-o md|csv|json]`: llama-bench's
/// pp/tg/pg tests on random token ids, forward passes only, mean ± standard deviation of t/s over -r runs after a
/// warm-up; tg rows add the bytes a token reads, the read bandwidth measured before and after, and the fraction of
/// that bound reached. `quanta bench generate --shape S --type T OUT.gguf [--seed S]` writes a random-weight model of
/// a real shape. Results on stdout; progress on stderr.
/// </summary>
internal static class BenchCommand
{
    public static Command Create()
    {
        var model = new Option<string>("--model", "-m") { Description = "GGUF model file" };
        var prompt = new Option<int>("--n-prompt", "-p") { Description = "prompt tokens of the pp test (0: skip)", DefaultValueFactory = _ => 512 };
        var gen = new Option<int>("--n-gen", "-n") { Description = "generated tokens of the tg test (0: skip)", DefaultValueFactory = _ => 128 };
        var reps = new Option<int>("--repetitions", "-r") { Description = "timed repetitions of each test", DefaultValueFactory = _ => 5 };
        var threads = new Option<int>("--threads", "-t") { Description = "threads", DefaultValueFactory = _ => Environment.ProcessorCount };
        var depth = new Option<int>("--n-depth", "-d") { Description = "tokens in the KV cache before each test", DefaultValueFactory = _ => 0 };
        var pg = new Option<string?>("--pg") { Description = "prompt-then-generation test PROMPT,GEN (e.g. 512,128)" };
        var output = new Option<string>("--output", "-o") { Description = "md, csv or json", DefaultValueFactory = _ => "md" };
        var cacheType = new Option<string>("--cache-type", "-ctk") { Description = "KV cache type f16, f32 or q8_0", DefaultValueFactory = _ => "f16" };
        var bwSeconds = new Option<double>("--bandwidth-seconds") { Description = "seconds of each read-bandwidth measurement around tg (0: skip)", DefaultValueFactory = _ => 2.0 };
        var seed = new Option<int>("--seed") { Description = "seed of the random token ids", DefaultValueFactory = _ => 1234 };
        var mmap = GenerationCliOptions.MmapOption();
        var verbose = new Option<bool>("--verbose") { Description = "show stack traces on errors" };
        var cmd = new Command("bench", "Benchmark prompt processing and generation speed (llama-bench style).")
        {
            model, prompt, gen, reps, threads, depth, pg, output, cacheType, bwSeconds, seed, mmap, verbose,
        };
        cmd.Add(CreateGenerate());
        cmd.Add(BenchServeCommand.Create());
        cmd.Add(BenchTensorCommand.Create());
        cmd.SetAction(p => CliRunner.Run(p.GetValue(verbose), () =>
        {
            string path = p.GetValue(model) ?? throw new ArgumentException("--model is required");
            string format = p.GetValue(output) ?? "md";
            if (format.ToUpperInvariant() is not ("MD" or "CSV" or "JSON")) throw new ArgumentException($"-o takes md, csv or json, got '{format}'");
            string? pgText = p.GetValue(pg);
            var options = new BenchOptions
            {
                Prompt = p.GetValue(prompt),
                Gen = p.GetValue(gen),
                Repetitions = p.GetValue(reps),
                Threads = p.GetValue(threads),
                Depth = p.GetValue(depth),
                PromptGen = pgText is null ? null : BenchOptions.ParsePromptGen(pgText),
                KvType = BenchOptions.ParseKvType(p.GetValue(cacheType) ?? "f16"),
                BandwidthSeconds = p.GetValue(bwSeconds),
                Seed = p.GetValue(seed),
            };
            options.Validate();
            if (!File.Exists(path)) throw new FileNotFoundException($"model file not found: {path}", path);
            var info = BenchModelInfo.FromGguf(path, options.KvType);
            using var progress = new Progress("bench");
            using var engine = new QuantaBenchEngine(path, options.Threads, options.ContextNeeded, options.KvType, options.MicroBatch,
                GenerationCliOptions.Residency(p, mmap));
            var results = BenchRunner.Run(engine, info, options, progress.LineSink());
            progress.Done(string.Create(CultureInfo.InvariantCulture, $"{results.Count} tests in {progress.Elapsed.TotalSeconds:F1} s"));
            Console.Out.Write(BenchReport.Format(results, format));
            return 0;
        }));
        return cmd;
    }

    private static Command CreateGenerate()
    {
        var outPath = new Argument<string>("out") { Description = "GGUF file to write" };
        var shape = new Option<string>("--shape") { Description = "llama-3.2-1b or 160m", Required = true };
        var type = new Option<string>("--type") { Description = "F32, F16, BF16, Q8_0, Q4_0, Q4_1, Q5_0, Q5_1, Q2_K, Q4_K, Q4_K_S, Q5_K, Q5_K_S, Q6_K", Required = true };
        var seed = new Option<ulong>("--seed") { Description = "seed of the random weights", DefaultValueFactory = _ => 1UL };
        var verbose = new Option<bool>("--verbose") { Description = "show stack traces on errors" };
        var cmd = new Command("generate", "Write a random-weight GGUF of a real model shape (llama-quantize tensor types).") { outPath, shape, type, seed, verbose };
        cmd.SetAction(p => CliRunner.Run(p.GetValue(verbose), () =>
        {
            string s = p.GetValue(shape) ?? "", t = p.GetValue(type) ?? "", dest = p.GetValue(outPath)!;
            if (!ModelShape.TryParse(s, out ModelShape ms))
                throw new ArgumentException($"unknown --shape '{s}' (choose {string.Join(", ", ModelShape.Named.Select(x => x.Name))})");
            if (!GgufQuantType.TryParse(t, out GgufQuantType qt))
                throw new ArgumentException($"unknown --type '{t}' (choose {string.Join(", ", GgufQuantType.All.Select(x => x.Name))}, Q4_K, Q5_K)");
            using var progress = new Progress("generating");
            ModelGenerator.Generate(ms, qt, dest, p.GetValue(seed), progress.LineSink());
            progress.Done(string.Create(CultureInfo.InvariantCulture, $"wrote {dest} ({new FileInfo(dest).Length / 1048576.0:F1} MiB) in {progress.Elapsed.TotalSeconds:F1} s"));
            Console.Out.WriteLine(dest);
            return 0;
        }));
        return cmd;
    }
}
