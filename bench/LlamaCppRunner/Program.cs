using System.Globalization;
using LLama.Native;
using Quanta.Bench;
using Quanta.Bench.LlamaCpp;

// llama.cpp side of bench/compare-llamacpp.sh: the same tests, options and output fields as `quanta bench`, run
// through LLamaSharp 0.30.0. Usage: LlamaCppRunner --model FILE [-p 512] [-n 128] [-r 5] [-t N] [-d D] [--pg P,N]
//   [--cache-type f16|f32] [--bandwidth-seconds 2] [--seed S] [-o json|md|csv]. Results on stdout, logs on stderr.
try
{
    string? model = null, format = "json";
    // llama-bench's single warm-up: llama.cpp is native code, the JIT compiles only this wrapper's own methods, so
    // repeating warm-ups while it compiles (Quanta's rule) would only run more untimed tests
    var o = new BenchOptions { MaxWarmUps = 1 };
    for (int i = 0; i < args.Length; i++)
    {
        string Next() => i + 1 < args.Length ? args[++i] : throw new ArgumentException($"{args[i]} needs a value");
        int Int() => int.Parse(Next(), NumberStyles.Integer, CultureInfo.InvariantCulture);
        switch (args[i])
        {
            case "-m" or "--model": model = Next(); break;
            case "-p" or "--n-prompt": o = o with { Prompt = Int() }; break;
            case "-n" or "--n-gen": o = o with { Gen = Int() }; break;
            case "-r" or "--repetitions": o = o with { Repetitions = Int() }; break;
            case "-t" or "--threads": o = o with { Threads = Int() }; break;
            case "-d" or "--n-depth": o = o with { Depth = Int() }; break;
            case "--pg": o = o with { PromptGen = BenchOptions.ParsePromptGen(Next()) }; break;
            case "-ctk" or "--cache-type": o = o with { KvType = BenchOptions.ParseKvType(Next()) }; break;
            case "--bandwidth-seconds": o = o with { BandwidthSeconds = double.Parse(Next(), CultureInfo.InvariantCulture) }; break;
            case "--seed": o = o with { Seed = Int() }; break;
            case "-o" or "--output": format = Next(); break;
            default: throw new ArgumentException($"unknown option {args[i]}");
        }
    }
    if (model is null) throw new ArgumentException("--model is required");
    o.Validate();
    var info = BenchModelInfo.FromGguf(model, o.KvType);
    NativeLogConfig.llama_log_set((level, message) =>
    {
        if (level >= LLamaLogLevel.Warning) Console.Error.Write(message);
    });
    using var engine = new LlamaCppEngine(model, o.Threads, o.ContextNeeded, o.KvType, o.MicroBatch);
    var results = BenchRunner.Run(engine, info, o, Console.Error.WriteLine);
    Console.Out.Write(BenchReport.Format(results, format));
    return 0;
}
catch (Exception e) when (e is ArgumentException or FormatException or FileNotFoundException or InvalidOperationException)
{
    Console.Error.WriteLine($"LlamaCppRunner: error: {e.Message}");
    return 1;
}
