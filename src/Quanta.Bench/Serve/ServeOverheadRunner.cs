using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Headers;
using System.Runtime;
using System.Text;
using System.Text.Json;
using Quanta.Engine.Execution;
using Quanta.Engine.Sampling;
using Quanta.Engine.Serving;

namespace Quanta.Bench.Serve;

/// <summary>Settings of <see cref="ServeOverheadRunner"/>.</summary>
public sealed record ServeOverheadOptions
{
    /// <summary>Measured pairs (one in-process and one HTTP request each, order alternating).</summary>
    public int Rounds { get; init; } = 10;

    /// <summary>Prompt tokens (random ids) per request.</summary>
    public int PromptTokens { get; init; } = 32;

    /// <summary>Generated tokens per request (ignore_eos: always this many).</summary>
    public int OutputTokens { get; init; } = 64;

    /// <summary>Seed of the prompts.</summary>
    public int Seed { get; init; }

    /// <summary>
    /// Unmeasured pairs of short requests (<see cref="WarmUpOutputTokens"/> tokens, one in process and one over HTTP)
    /// before the measured rounds. Code that runs once per request (Kestrel's request parsing, the handler, HttpClient's
    /// send) reaches its final tier only after about 60 calls (tier 0 or ReadyToRun, 30 calls, instrumented tier 1,
    /// 30 more calls, tier 1); with fewer warm-up requests the JIT is still recompiling the HTTP path on a background
    /// thread during the measured rounds, which on a machine whose cores the forward pass keeps busy is charged to the
    /// HTTP arm's TPOT. The tiering delay (call counting starts only once no new tier-0 code has appeared for 100 ms)
    /// stretches that: with 64 pairs 300-470 methods were still compiled during 20 measured HTTP rounds against 60-140
    /// in process; with 128 pairs 60 and 62.
    /// </summary>
    public int WarmUpRequests { get; init; } = 128;

    /// <summary>Generated tokens per warm-up request (at least 2).</summary>
    public int WarmUpOutputTokens { get; init; } = 3;

    /// <summary>Throws <see cref="ArgumentException"/> on an out-of-range setting.</summary>
    public void Validate()
    {
        if (Rounds < 1) throw new ArgumentException("--rounds must be at least 1");
        if (WarmUpRequests < 0) throw new ArgumentException("--num-warmups must be at least 0");
        if (WarmUpOutputTokens < 2) throw new ArgumentException("the warm-up output length must be at least 2");
        if (PromptTokens < 1) throw new ArgumentException("--prompt-len must be at least 1");
        if (OutputTokens < 3) throw new ArgumentException("--output-len must be at least 3");
    }
}

/// <summary>
/// Time per output token of the same greedy requests generated in process (<see cref="ServingEngine.Submit"/>) and
/// through the HTTP server on loopback (streamed /v1/completions), medians over the rounds; <see cref="Ratio"/> =
/// HTTP / in-process (the issue's target: below 1.05).
/// </summary>
/// <param name="InProcessTpotMs">Median in-process TPOT, ms.</param>
/// <param name="HttpTpotMs">Median HTTP TPOT, ms.</param>
/// <param name="InProcess">Every in-process TPOT, ms, in round order.</param>
/// <param name="Http">Every HTTP TPOT, ms, in round order.</param>
/// <param name="InProcessJitMethods">Methods the JIT compiled (any tier, whole process) during the measured in-process requests.</param>
/// <param name="HttpJitMethods">Methods the JIT compiled during the measured HTTP requests.</param>
/// <param name="WarmUpJitMethods">Methods the JIT compiled during the warm-up (requests and the wait for the JIT to settle).</param>
public sealed record ServeOverheadResult(double InProcessTpotMs, double HttpTpotMs, IReadOnlyList<double> InProcess, IReadOnlyList<double> Http,
    long InProcessJitMethods = 0, long HttpJitMethods = 0, long WarmUpJitMethods = 0)
{
    /// <summary>HTTP TPOT / in-process TPOT (medians).</summary>
    public double Ratio => HttpTpotMs / InProcessTpotMs;

    /// <summary>A short report.</summary>
    public string ToText()
    {
        var ci = CultureInfo.InvariantCulture;
        var sb = new StringBuilder();
        sb.Append(ci, $"rounds:                         {InProcess.Count}\n");
        sb.Append(ci, $"in-process TPOT, median (ms):   {InProcessTpotMs:F3}\n");
        sb.Append(ci, $"HTTP (loopback, SSE) TPOT (ms): {HttpTpotMs:F3}\n");
        sb.Append(ci, $"server / in-process:            {Ratio:F4} ({(Ratio - 1) * 100:+0.00;-0.00}%)\n");
        sb.Append(ci, $"JIT compiles while measuring:   in-process {InProcessJitMethods}, HTTP {HttpJitMethods} (warm-up {WarmUpJitMethods})\n");
        return sb.ToString();
    }
}

/// <summary>
/// Measures what the HTTP server adds to per-token latency: one <see cref="ServingEngine"/>, served by a running
/// server at a base URL, gets the same greedy random-token prompts alternately in process and over HTTP (streamed
/// /v1/completions, ignore_eos), one request at a time. TPOT = (time the finish arrives − time the first token
/// arrives) / (tokens − 1), measured the same way on both paths.
/// </summary>
public static class ServeOverheadRunner
{
    /// <summary>Runs the comparison; <paramref name="engine"/> must be the engine the server at <paramref name="baseUrl"/> serves as <paramref name="model"/>.</summary>
    public static async Task<ServeOverheadResult> RunAsync(ServingEngine engine, HttpClient http, Uri baseUrl, string model, ServeOverheadOptions options,
        Action<int, int>? progress = null, CancellationToken cancel = default)
    {
        ArgumentNullException.ThrowIfNull(engine);
        ArgumentNullException.ThrowIfNull(http);
        ArgumentNullException.ThrowIfNull(baseUrl);
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        int vocab = engine.Model.Tokenizer.VocabSize;
        if (options.PromptTokens + options.OutputTokens >= engine.ContextLength)
            throw new ArgumentException($"prompt + output ({options.PromptTokens + options.OutputTokens}) must be below the context length {engine.ContextLength}");
        var endpoint = new Uri(baseUrl.ToString().TrimEnd('/') + "/v1/completions");
        var rng = new Random(options.Seed);
        int[] Prompt()
        {
            var p = new int[options.PromptTokens];
            for (int i = 0; i < p.Length; i++) p[i] = rng.Next(Math.Min(3, vocab - 1), vocab);
            return p;
        }

        // warm-up (JIT, first-touch of the weights, connection set-up): a full-length pair for the per-token code, short
        // pairs until the per-request code has reached its final tier, then wait until the background JIT is idle
        long warmJit0 = JitInfo.GetCompiledMethodCount();
        int[] warm = Prompt();
        await InProcessAsync(engine, warm, options.OutputTokens, cancel).ConfigureAwait(false);
        await HttpAsync(http, endpoint, model, warm, options.OutputTokens, cancel).ConfigureAwait(false);
        for (int i = 0; i < options.WarmUpRequests; i++)
        {
            await InProcessAsync(engine, warm, options.WarmUpOutputTokens, cancel).ConfigureAwait(false);
            await HttpAsync(http, endpoint, model, warm, options.WarmUpOutputTokens, cancel).ConfigureAwait(false);
        }
        if (options.WarmUpRequests > 0) ExecutorWarmUp.Settle();   // tier-1 recompilation lands after the last requests return
        long warmJit = JitInfo.GetCompiledMethodCount() - warmJit0;

        var inProcess = new List<double>(options.Rounds);
        var overHttp = new List<double>(options.Rounds);
        long jitInProcess = 0, jitHttp = 0;
        async Task InProcessRound(int[] prompt)
        {
            long j0 = JitInfo.GetCompiledMethodCount();
            inProcess.Add(await InProcessAsync(engine, prompt, options.OutputTokens, cancel).ConfigureAwait(false));
            jitInProcess += JitInfo.GetCompiledMethodCount() - j0;
        }
        async Task HttpRound(int[] prompt)
        {
            long j0 = JitInfo.GetCompiledMethodCount();
            overHttp.Add(await HttpAsync(http, endpoint, model, prompt, options.OutputTokens, cancel).ConfigureAwait(false));
            jitHttp += JitInfo.GetCompiledMethodCount() - j0;
        }
        for (int r = 0; r < options.Rounds; r++)
        {
            int[] prompt = Prompt();
            if (r % 2 == 0)
            {
                await InProcessRound(prompt).ConfigureAwait(false);
                await HttpRound(prompt).ConfigureAwait(false);
            }
            else
            {
                await HttpRound(prompt).ConfigureAwait(false);
                await InProcessRound(prompt).ConfigureAwait(false);
            }
            progress?.Invoke(r + 1, options.Rounds);
        }
        return new ServeOverheadResult(Median(inProcess), Median(overHttp), inProcess, overHttp, jitInProcess, jitHttp, warmJit);
    }

    private static double Median(List<double> values)
    {
        double[] sorted = [.. values];
        Array.Sort(sorted);
        return LatencyStats.Percentile(sorted, 50);
    }

    // TPOT in ms of one greedy in-process request
    private static async Task<double> InProcessAsync(ServingEngine engine, int[] prompt, int tokens, CancellationToken cancel)
    {
        ServingCall call = engine.Submit(new ServingRequest
        {
            Prompt = prompt,
            Sampling = new SamplingParameters { Temperature = 0, MaxTokens = tokens },
            IgnoreEos = true,
        }, cancel);
        long first = 0, last = 0;
        await foreach (ServingDelta d in call.ReadAllAsync(cancel).ConfigureAwait(false))
        {
            long now = Stopwatch.GetTimestamp();
            if (first == 0) first = now;
            last = now;
        }
        ServingUsage usage = await call.Usage.ConfigureAwait(false);
        return Tpot(first, last, usage.CompletionTokens);
    }

    // TPOT in ms of one greedy streamed HTTP request
    private static async Task<double> HttpAsync(HttpClient http, Uri endpoint, string model, int[] prompt, int tokens, CancellationToken cancel)
    {
        string body = string.Create(CultureInfo.InvariantCulture,
            $"{{\"model\":{JsonSerializer.Serialize(model)},\"prompt\":[{string.Join(',', prompt)}],\"max_tokens\":{tokens},\"temperature\":0,\"ignore_eos\":true,\"stream\":true,\"stream_options\":{{\"include_usage\":true}}}}");
        using var req = new HttpRequestMessage(HttpMethod.Post, endpoint) { Content = new StringContent(body, Encoding.UTF8, "application/json") };
        req.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("text/event-stream"));
        using HttpResponseMessage resp = await http.SendAsync(req, HttpCompletionOption.ResponseHeadersRead, cancel).ConfigureAwait(false);
        if (!resp.IsSuccessStatusCode)
            throw new InvalidOperationException($"HTTP {(int)resp.StatusCode}: {await resp.Content.ReadAsStringAsync(cancel).ConfigureAwait(false)}");
        using var reader = new StreamReader(await resp.Content.ReadAsStreamAsync(cancel).ConfigureAwait(false), Encoding.UTF8);
        long first = 0, last = 0;
        int completion = -1;
        while (await reader.ReadLineAsync(cancel).ConfigureAwait(false) is string line)
        {
            if (!line.StartsWith("data:", StringComparison.Ordinal)) continue;
            string data = line[5..].Trim();
            if (data == "[DONE]") break;
            long now = Stopwatch.GetTimestamp();
            using var doc = JsonDocument.Parse(data);
            JsonElement root = doc.RootElement;
            if (root.TryGetProperty("choices", out var choices) && choices.GetArrayLength() > 0)
            {
                if (first == 0) first = now;
                last = now;
            }
            if (root.TryGetProperty("usage", out var usage) && usage.ValueKind == JsonValueKind.Object)
                completion = usage.GetProperty("completion_tokens").GetInt32();
        }
        if (completion < 0) throw new InvalidOperationException("the stream carried no usage (stream_options.include_usage)");
        return Tpot(first, last, completion);
    }

    private static double Tpot(long first, long last, int tokens)
    {
        if (tokens < 2 || first == 0) throw new InvalidOperationException($"a request produced {tokens} tokens; TPOT needs at least 2");
        return Stopwatch.GetElapsedTime(first, last).TotalMilliseconds / (tokens - 1);
    }
}
