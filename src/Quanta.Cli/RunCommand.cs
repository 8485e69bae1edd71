using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Text;
using Quanta.Core.ModelFiles;
using Quanta.Cuda.Execution;
using Quanta.Engine.Generation;
using Quanta.Engine.Metrics;
using Quanta.Engine.Sampling;
using Quanta.Engine.Serving;

namespace Quanta.Cli;

/// <summary>
/// `quanta run --model FILE [--tokenizer FILE] --prompt TEXT [-n N] [sampling options] [--threads N] [--context N]`:
/// streams the generated text (not the prompt, unless --echo) to stdout as it is produced and ends it with a newline;
/// load progress and the prompt / generation speeds go to stderr. An empty prompt starts from BOS alone (a llama2.c
/// checkpoint then stops when BOS comes up again, as llama2.c's run.c does). Ctrl+C stops generation early.
/// <para>--gpu runs it on CUDA device 0 (--gpu-format bf16 or fp8) through the serving engine with the GPU executor, and
/// adds the energy of the run (NVML) to the stderr line.</para>
/// <para>Sampling defaults are llama.cpp's: temperature 0.8, top-k 40, top-p 0.95, min-p 0.05, no repetition
/// penalty; --temperature 0 is greedy.</para>
/// </summary>
internal static class RunCommand
{
    public static Command Create()
    {
        var o = new GenerationCliOptions();
        var prompt = new Option<string>("--prompt", "-p") { Description = "text to continue (empty: start from BOS)", DefaultValueFactory = _ => "" };
        var echo = new Option<bool>("--echo") { Description = "print the prompt before the generated text" };
        var gpu = new GpuCliOptions();
        var cmd = new Command("run", "Generate text from a prompt, streaming it to stdout.");
        o.AddTo(cmd, [prompt, echo, .. gpu.All]);
        cmd.SetAction(p => CliRunner.Run(p.GetValue(o.Verbose), () =>
        {
            SamplingParameters sampling = o.Sampling(p);
            using GpuSession? device = gpu.Open(p, "run");
            LlmModel model = o.LoadModel(p);
            // on the GPU the model runs behind the serving engine (which owns the model from then on): one sequence,
            // the engine's block tables over the executor's device pages
            using ServingMetrics? metrics = device is null ? null : new ServingMetrics(new ServingMetricsOptions { PowerSource = device.Power });
            using ServingEngine? engine = device is null ? null : OnDevice(model, device, metrics!, p.GetValue(o.Threads));
            using LlmModel? cpuModel = engine is null ? model : null;
            string text = p.GetValue(prompt) ?? "";
            int[] tokens = model.Tokenize(text);
            using var stdout = new StreamWriter(Console.OpenStandardOutput(), new UTF8Encoding(false), 1 << 12) { AutoFlush = true };
            if (p.GetValue(echo)) stdout.Write(text);
            using var cts = new CancellationTokenSource();
            ConsoleCancelEventHandler onCancel = (_, e) => { e.Cancel = true; cts.Cancel(); };
            Console.CancelKeyPress += onCancel;
            try
            {
                if (engine is not null)
                {
                    EngineRun run = StreamTo(engine, tokens, sampling, stdout, cts.Token);
                    if (!run.EndsWithNewline) stdout.Write('\n');
                    Console.Error.WriteLine(run.Summary());
                    return 0;
                }
                GenerationChunk last = StreamTo(model, tokens, sampling, stdout, out bool endsWithNewline, cts.Token);
                if (!endsWithNewline) stdout.Write('\n');
                Console.Error.WriteLine(Speeds(last.Usage!, last.FinishReason!.Value));
            }
            finally
            {
                Console.CancelKeyPress -= onCancel;
            }
            return 0;
        }));
        return cmd;
    }

    /// <summary>A serving engine for one sequence at a time over <paramref name="model"/> (owned by it) on the GPU.</summary>
    private static ServingEngine OnDevice(LlmModel model, GpuSession device, ServingMetrics metrics, int threads)
    {
        Console.Error.WriteLine($"quanta run: on {device.Backend.Accelerator.Name} in {device.Format}");
        try
        {
            return new ServingEngine("run", model, new ServingOptions
            {
                MaxRunning = 1,
                MaxQueue = 1,
                Threads = threads,
                Metrics = metrics,
                CreateExecutor = device.ExecutorFactory(),
                ExecutorKvStorage = GpuServing.KvStorage,
            });
        }
        catch
        {
            model.Dispose();
            throw;
        }
    }

    /// <summary>What a generation through the serving engine did: token counts, times, energy and why it stopped.</summary>
    internal sealed record EngineRun(ServingUsage Usage, ServingFinishReason Finish, double PromptSeconds, double GenerationSeconds, bool EndsWithNewline)
    {
        /// <summary>The stderr line: the CPU path's speeds plus the energy (measured by NVML, or the power model's estimate).</summary>
        public string Summary()
        {
            int generated = Usage.CompletionTokens;
            double promptRate = PromptSeconds > 0 ? Usage.PromptTokens / PromptSeconds : 0;
            double genRate = generated > 1 && GenerationSeconds > 0 ? (generated - 1) / GenerationSeconds : 0;
            string reason = Finish switch
            {
                ServingFinishReason.Stop => "stop",
                ServingFinishReason.Length => "length",
                ServingFinishReason.Cancelled => "cancelled",
                var r => r.ToString().ToLowerInvariant(),
            };
            return string.Create(CultureInfo.InvariantCulture,
                $"prompt: {Usage.PromptTokens} tokens, {promptRate:F1} tokens/s | generation: {generated} tokens, {genRate:F1} tokens/s | stop: {reason} | " +
                $"energy: {Usage.EnergyJoules:F2} J, {(generated > 0 ? Usage.EnergyJoules / generated : 0):F3} J/token{(Usage.EnergyEstimated ? " (estimated)" : "")}");
        }
    }

    /// <summary>
    /// Streams one request through <paramref name="engine"/> to <paramref name="output"/>. Prompt time runs from submission to
    /// the first generated token; generation time from there to the last (so its rate counts the tokens after the first).
    /// </summary>
    internal static EngineRun StreamTo(ServingEngine engine, int[] prompt, SamplingParameters sampling, TextWriter output, CancellationToken ct)
    {
        long start = Stopwatch.GetTimestamp(), first = 0, last = 0;
        ServingCall call = engine.Submit(new ServingRequest { Prompt = prompt, Sampling = sampling }, ct);
        char lastChar = '\n';
        bool any = false;
        ServingFinishReason finish = ServingFinishReason.Stop;
        var e = call.ReadAllAsync(CancellationToken.None).GetAsyncEnumerator();
        try
        {
            while (e.MoveNextAsync().AsTask().GetAwaiter().GetResult())
            {
                ServingDelta d = e.Current;
                if (d.Token >= 0)
                {
                    last = Stopwatch.GetTimestamp();
                    if (first == 0) first = last;
                }
                if (d.Finish is { } f) finish = f;
                if (d.Text.Length == 0) continue;
                output.Write(d.Text);
                lastChar = d.Text[^1];
                any = true;
            }
        }
        finally
        {
            e.DisposeAsync().AsTask().GetAwaiter().GetResult();
        }
        ServingUsage usage = call.Usage.GetAwaiter().GetResult();
        double promptSeconds = first == 0 ? 0 : Stopwatch.GetElapsedTime(start, first).TotalSeconds;
        double genSeconds = first == 0 ? 0 : Stopwatch.GetElapsedTime(first, last).TotalSeconds;
        return new EngineRun(usage, finish, promptSeconds, genSeconds, any && lastChar == '\n');
    }

    /// <summary>Streams generation to <paramref name="output"/>; returns the final chunk.</summary>
    internal static GenerationChunk StreamTo(LlmModel model, int[] prompt, SamplingParameters sampling, TextWriter output, out bool endsWithNewline,
        CancellationToken ct)
    {
        // A synchronous loop over the stream: the model runs on this thread, text is written as each token arrives.
        var e = model.GenerateStreaming(prompt, sampling, ct).GetAsyncEnumerator(ct);
        GenerationChunk last = default;
        char lastChar = '\n';
        bool any = false;
        try
        {
            while (e.MoveNextAsync().AsTask().GetAwaiter().GetResult())
            {
                last = e.Current;
                if (last.Text.Length == 0) continue;
                output.Write(last.Text);
                lastChar = last.Text[^1];
                any = true;
            }
        }
        finally
        {
            e.DisposeAsync().AsTask().GetAwaiter().GetResult();
        }
        endsWithNewline = any && lastChar == '\n';
        return last;
    }

    /// <summary>One stderr line: prompt and generation speeds and why generation stopped.</summary>
    internal static string Speeds(GenerationUsage u, GenerationFinishReason reason) => string.Create(CultureInfo.InvariantCulture,
        $"prompt: {u.PromptTokens} tokens, {u.PromptTokensPerSecond:F1} tokens/s | generation: {u.CompletionTokens} tokens, " +
        $"{u.GenerationTokensPerSecond:F1} tokens/s | stop: {reason.ToString().ToLowerInvariant()}");
}

/// <summary>Model, sampling and runtime options shared by `run` and `chat`.</summary>
internal sealed class GenerationCliOptions
{
    public Option<string> Model { get; } = new("--model", "-m") { Description = "GGUF file, llama2.c .bin checkpoint or safetensors folder", Required = true };
    public Option<string?> Tokenizer { get; } = new("--tokenizer") { Description = "tokenizer file (llama2.c tokenizer .bin such as tok512.bin, tokenizer.json or GGUF)" };
    public Option<int?> MaxTokens { get; } = new("--n-predict", "-n") { Description = "most tokens to generate (default: until end of text or the context is full)" };
    public Option<float> Temperature { get; } = new("--temperature", "--temp") { Description = "sampling temperature; 0 = greedy (llama.cpp's default)", DefaultValueFactory = _ => 0.8f };
    public Option<int> TopK { get; } = new("--top-k") { Description = "keep the k most likely tokens; 0 = off", DefaultValueFactory = _ => 40 };
    public Option<float> TopP { get; } = new("--top-p") { Description = "nucleus sampling mass; 1 = off", DefaultValueFactory = _ => 0.95f };
    public Option<float> MinP { get; } = new("--min-p") { Description = "drop tokens below min-p x the top probability; 0 = off", DefaultValueFactory = _ => 0.05f };
    public Option<ulong?> Seed { get; } = new("--seed", "-s") { Description = "random seed (default: random)" };
    public Option<float> RepeatPenalty { get; } = new("--repeat-penalty") { Description = "penalty for tokens among the last 64; 1 = off", DefaultValueFactory = _ => 1f };
    public Option<string[]> Stop { get; } = new("--stop") { Description = "stop when this text is generated (repeatable); the text is not printed" };
    public Option<int> Threads { get; } = new("--threads", "-t") { Description = "worker threads (default: all cores)" };
    public Option<int> Context { get; } = new("--context", "-c") { Description = "context length in tokens (default: the model's, at most 4096)" };
    public Option<bool> Mmap { get; } = MmapOption();

    /// <summary>--mmap as run, chat, serve and bench take it.</summary>
    public static Option<bool> MmapOption() => new("--mmap") { Description = "map the GGUF file (zero-copy, shared with the page cache, as llama.cpp by default) instead of copying its weights into 2 MiB pages; less private memory, slower decode" };

    /// <summary>The residency --mmap asks for: the mapping, or null for the loader's default.</summary>
    public static FileResidency? Residency(ParseResult p, Option<bool> mmap) => p.GetValue(mmap) ? FileResidency.Mapped : null;
    public Option<bool> Verbose { get; } = new("--verbose") { Description = "show stack traces on errors" };

    /// <summary>Adds the options to <paramref name="cmd"/>, the command's own <paramref name="afterModel"/> right after --model/--tokenizer.</summary>
    public void AddTo(Command cmd, params Option[] afterModel)
    {
        foreach (Option opt in (Option[])[Model, Tokenizer, .. afterModel, MaxTokens, Temperature, TopK, TopP, MinP, Seed, RepeatPenalty, Stop, Threads, Context, Mmap, Verbose])
            cmd.Add(opt);
    }

    public LlmModel LoadModel(ParseResult p)
    {
        int threads = p.GetValue(Threads), context = p.GetValue(Context);
        if (threads < 0) throw new ArgumentException($"--threads must be >= 0, got {threads}");
        if (context < 0) throw new ArgumentException($"--context must be >= 0, got {context}");
        string path = p.GetValue(Model)!;
        using var progress = new Progress("loading " + Path.GetFileName(Path.TrimEndingDirectorySeparator(path)));
        var model = LlmModel.Load(path, new LlmLoadOptions
        {
            TokenizerPath = p.GetValue(Tokenizer),
            Threads = threads,
            ContextLength = context,
            Residency = Residency(p, Mmap),
            Progress = new ReportTo(progress),
        });
        progress.Done(string.Create(CultureInfo.InvariantCulture,
            $"{model.Model.Config.Architecture}, {model.Model.Config.Layers} layers, vocabulary {model.Tokenizer.VocabSize}, context {model.ContextLength}, in {progress.Elapsed.TotalSeconds:F2} s"));
        return model;
    }

    public SamplingParameters Sampling(ParseResult p)
    {
        int? n = p.GetValue(MaxTokens);
        if (n is < 0) throw new ArgumentException($"-n must be positive, got {n}");
        var s = new SamplingParameters
        {
            Temperature = p.GetValue(Temperature),
            TopK = p.GetValue(TopK),
            TopP = p.GetValue(TopP),
            MinP = p.GetValue(MinP),
            Seed = p.GetValue(Seed),
            RepetitionPenalty = p.GetValue(RepeatPenalty),
            MaxTokens = n is 0 ? null : n,
            Stop = p.GetValue(Stop) ?? [],
        };
        try
        {
            s.Validate(int.MaxValue);
        }
        catch (ArgumentOutOfRangeException e)
        {
            string option = e.ParamName switch
            {
                nameof(SamplingParameters.Temperature) => "--temperature",
                nameof(SamplingParameters.TopK) => "--top-k",
                nameof(SamplingParameters.TopP) => "--top-p",
                nameof(SamplingParameters.MinP) => "--min-p",
                nameof(SamplingParameters.RepetitionPenalty) => "--repeat-penalty",
                nameof(SamplingParameters.MaxTokens) => "-n",
                _ => e.ParamName ?? "a sampling option",
            };
            string rule = e.Message.Split(" (Parameter", 2)[0].Split('\n')[0];
            rule = rule[(rule.IndexOf(' ', StringComparison.Ordinal) + 1)..].TrimEnd('.');
            throw new ArgumentException($"{option} {rule}, got {e.ActualValue}", e);
        }
        return s;
    }

    private sealed class ReportTo(Progress progress) : IProgress<LlmLoadProgress>
    {
        public void Report(LlmLoadProgress value) => progress.Report(value.Fraction, value.Stage);
    }
}
