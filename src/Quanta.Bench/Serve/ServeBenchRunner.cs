using System.Diagnostics;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;

namespace Quanta.Bench.Serve;

/// <summary>
/// The load generator of `quanta bench serve`: streamed /v1/completions requests (stream_options.include_usage) with
/// random token-id prompts, sent at exponential (burstiness 1) or gamma inter-arrival gaps of mean 1/rate as vLLM does,
/// or all at once for an infinite rate, at most MaxConcurrency in flight; measures TTFT, ITL, TPOT and E2EL per request.
/// </summary>
public static class ServeBenchRunner
{
    /// <summary>
    /// Runs the benchmark with <paramref name="http"/>. <paramref name="progress"/> gets (finished, total) after each
    /// measured request; <paramref name="log"/> gets notes (e.g. ignore_eos rejected by the server).
    /// </summary>
    public static async Task<ServeBenchResult> RunAsync(HttpClient http, ServeBenchOptions options,
        Action<int, int>? progress = null, Action<string>? log = null, CancellationToken cancel = default)
    {
        ArgumentNullException.ThrowIfNull(http);
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        var endpoint = new Uri(options.BaseUrl.ToString().TrimEnd('/') + "/v1/completions");
        var rng = new Random(options.Seed);
        var prompts = new int[options.NumPrompts][];
        for (int i = 0; i < prompts.Length; i++)
        {
            prompts[i] = new int[options.InputLen];
            for (int t = 0; t < options.InputLen; t++) prompts[i][t] = rng.Next(3, options.VocabSize);
        }

        bool ignoreEos = false;
        if (options.IgnoreEos)
        {
            ignoreEos = await ProbeIgnoreEosAsync(http, endpoint, options, prompts[0], cancel).ConfigureAwait(false);
            if (!ignoreEos) log?.Invoke("note: the server rejects ignore_eos; sending requests without it");
        }

        for (int w = 0; w < options.NumWarmups; w++)
        {
            var warm = await SendAsync(http, endpoint, options, prompts[w % prompts.Length], ignoreEos, cancel).ConfigureAwait(false);
            if (!warm.Success) log?.Invoke($"warning: warm-up request failed: {warm.Error}");
        }

        var outcomes = new ServeRequestOutcome[prompts.Length];
        using var gate = options.MaxConcurrency is int mc ? new SemaphoreSlim(mc, mc) : null;
        int finished = 0;
        var tasks = new List<Task>(prompts.Length);
        var clock = Stopwatch.StartNew();
        double theta = 1.0 / (options.RequestRate * options.Burstiness);
        for (int i = 0; i < prompts.Length; i++)
        {
            int index = i;
            tasks.Add(Task.Run(async () =>
            {
                if (gate is not null) await gate.WaitAsync(cancel).ConfigureAwait(false);
                try
                {
                    outcomes[index] = await SendAsync(http, endpoint, options, prompts[index], ignoreEos, cancel).ConfigureAwait(false);
                }
                finally
                {
                    gate?.Release();
                }
                progress?.Invoke(Interlocked.Increment(ref finished), prompts.Length);
            }, cancel));
            if (!double.IsInfinity(options.RequestRate) && i + 1 < prompts.Length)
            {
                double gap = SampleGamma(rng, options.Burstiness) * theta;
                await Task.Delay(TimeSpan.FromSeconds(gap), cancel).ConfigureAwait(false);
            }
        }
        await Task.WhenAll(tasks).ConfigureAwait(false);
        double duration = clock.Elapsed.TotalSeconds;
        return ServeBenchResult.From(outcomes, duration, options);
    }

    /// <summary>A Gamma(shape, 1) sample (Marsaglia–Tsang; shape below 1 by the U^(1/shape) boost).</summary>
    public static double SampleGamma(Random rng, double shape)
    {
        ArgumentNullException.ThrowIfNull(rng);
        if (shape < 1) return SampleGamma(rng, shape + 1) * Math.Pow(1 - rng.NextDouble(), 1 / shape);
        double d = shape - 1.0 / 3, c = 1 / Math.Sqrt(9 * d);
        while (true)
        {
            double x, v;
            do
            {
                x = Normal(rng);
                v = 1 + c * x;
            }
            while (v <= 0);
            v = v * v * v;
            double u = 1 - rng.NextDouble();
            if (Math.Log(u) < 0.5 * x * x + d - d * v + d * Math.Log(v)) return d * v;
        }
    }

    private static double Normal(Random rng) =>
        Math.Sqrt(-2 * Math.Log(1 - rng.NextDouble())) * Math.Cos(2 * Math.PI * rng.NextDouble());

    private static string Body(ServeBenchOptions o, int[] prompt, int maxTokens, bool stream, bool ignoreEos)
    {
        using var ms = new MemoryStream();
        using (var w = new Utf8JsonWriter(ms))
        {
            w.WriteStartObject();
            w.WriteString("model", o.Model);
            w.WriteStartArray("prompt");
            foreach (int t in prompt) w.WriteNumberValue(t);
            w.WriteEndArray();
            w.WriteNumber("max_tokens", maxTokens);
            w.WriteNumber("temperature", 0);
            w.WriteBoolean("stream", stream);
            if (stream)
            {
                w.WriteStartObject("stream_options");
                w.WriteBoolean("include_usage", true);
                w.WriteEndObject();
            }
            if (ignoreEos) w.WriteBoolean("ignore_eos", true);
            w.WriteEndObject();
        }
        return Encoding.UTF8.GetString(ms.ToArray());
    }

    private static async Task<bool> ProbeIgnoreEosAsync(HttpClient http, Uri endpoint, ServeBenchOptions o, int[] prompt, CancellationToken cancel)
    {
        using var content = new StringContent(Body(o, prompt, 1, false, true), Encoding.UTF8, "application/json");
        using var resp = await http.PostAsync(endpoint, content, cancel).ConfigureAwait(false);
        return resp.IsSuccessStatusCode;
    }

    private static async Task<ServeRequestOutcome> SendAsync(HttpClient http, Uri endpoint, ServeBenchOptions o, int[] prompt, bool ignoreEos, CancellationToken cancel)
    {
        var r = new ServeRequestOutcome { PromptTokens = prompt.Length };
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancel);
        timeout.CancelAfter(o.RequestTimeout);
        long start = Stopwatch.GetTimestamp();
        long last = start;
        bool usageSeen = false;
        try
        {
            using var req = new HttpRequestMessage(HttpMethod.Post, endpoint)
            {
                Content = new StringContent(Body(o, prompt, o.OutputLen, true, ignoreEos), Encoding.UTF8, "application/json"),
            };
            req.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("text/event-stream"));
            using var resp = await http.SendAsync(req, HttpCompletionOption.ResponseHeadersRead, timeout.Token).ConfigureAwait(false);
            if (!resp.IsSuccessStatusCode)
            {
                r.Error = $"HTTP {(int)resp.StatusCode}: {await resp.Content.ReadAsStringAsync(timeout.Token).ConfigureAwait(false)}";
                return r;
            }
            using var stream = await resp.Content.ReadAsStreamAsync(timeout.Token).ConfigureAwait(false);
            using var reader = new StreamReader(stream, Encoding.UTF8);
            while (await reader.ReadLineAsync(timeout.Token).ConfigureAwait(false) is string line)
            {
                if (!line.StartsWith("data:", StringComparison.Ordinal)) continue;
                string data = line[5..].Trim();
                if (data == "[DONE]") break;
                long now = Stopwatch.GetTimestamp();
                using var doc = JsonDocument.Parse(data);
                var root = doc.RootElement;
                if (root.TryGetProperty("error", out var err))
                {
                    r.Error = err.ToString();
                    return r;
                }
                if (root.TryGetProperty("choices", out var choices) && choices.ValueKind == JsonValueKind.Array && choices.GetArrayLength() > 0)
                {
                    if (r.Chunks == 0) r.Ttft = Stopwatch.GetElapsedTime(start, now).TotalSeconds;
                    else r.Itl.Add(Stopwatch.GetElapsedTime(last, now).TotalSeconds);
                    last = now;
                    r.Chunks++;
                }
                if (root.TryGetProperty("usage", out var usage) && usage.ValueKind == JsonValueKind.Object)
                {
                    usageSeen = true;
                    if (usage.TryGetProperty("prompt_tokens", out var pt)) r.PromptTokens = pt.GetInt32();
                    if (usage.TryGetProperty("completion_tokens", out var ct)) r.OutputTokens = ct.GetInt32();
                    if (usage.TryGetProperty("energy_joules", out var ej) && ej.ValueKind == JsonValueKind.Number) r.EnergyJoules = ej.GetDouble();
                    if (usage.TryGetProperty("cost_usd", out var cu) && cu.ValueKind == JsonValueKind.Number) r.CostUsd = cu.GetDouble();
                }
            }
            r.E2el = Stopwatch.GetElapsedTime(start).TotalSeconds;
            if (!usageSeen) r.OutputTokens = r.Chunks;
            r.Success = r.Chunks > 0;
            if (!r.Success) r.Error = "stream ended without output";
        }
        catch (Exception e) when (e is HttpRequestException or OperationCanceledException or JsonException or IOException && !cancel.IsCancellationRequested)
        {
            r.Error = e.Message;
        }
        return r;
    }
}
