using System.Net;
using System.Text;
using System.Text.Json;
using Quanta.Engine.Serving;

namespace Quanta.Server.Tests;

/// <summary>GET /metrics after real requests: histograms, counters and gauges agree with the usage blocks the clients got.</summary>
public sealed class MetricsTests
{
    // Power model with 100 W busy, 0 W idle and $0.36/hour: every step's energy is 100 W × its time and its cost
    // $0.36 × its time / 3600, so joules / dollars = 100 × 3600 / 0.36 = 1e6 for any step, request or total.
    private const double Busy = 100, Price = 0.36, JoulesPerDollar = Busy * 3600 / Price;

    private static void ConfigureEnergy(ServerOptions o)
    {
        o.BusyWatts = Busy;
        o.IdleWatts = 0;
        o.DollarsPerHour = Price;
    }

    private static async Task<PromText> ScrapeAsync(ServerHarness h)
    {
        using HttpResponseMessage resp = await h.Http.GetAsync("/metrics");
        Assert.Equal(HttpStatusCode.OK, resp.StatusCode);
        Assert.Equal("text/plain", resp.Content.Headers.ContentType!.MediaType);
        Assert.Equal("0.0.4", resp.Content.Headers.ContentType.Parameters.Single(p => p.Name == "version").Value);
        return new PromText(await resp.Content.ReadAsStringAsync());
    }

    // Polls until the engine is idle and the gauges recorded on going idle are in (the response can overtake them).
    private static async Task<PromText> ScrapeIdleAsync(ServerHarness h, params string[] models)
    {
        PromText p = await ScrapeAsync(h);
        for (int i = 0; i < 500; i++)
        {
            bool idle = h.Server.Metrics.TrackedRequests == 0 && models.All(m =>
                h.Server.Engines[m].Outstanding == 0 && h.Server.Engines[m].ActiveRequests == 0 &&
                p.Has("quanta:kv_cache_usage_perc", ("model_name", m)) && p.Single("quanta:kv_cache_usage_perc", ("model_name", m)) == 0 &&
                p.Single("quanta:num_requests_running", ("model_name", m)) == 0);
            if (idle) return p;
            await Task.Delay(20);
            p = await ScrapeAsync(h);
        }
        return p;
    }

    private static async Task<JsonElement> StreamUsageAsync(ServerHarness h, string json)
    {
        using var req = new HttpRequestMessage(HttpMethod.Post, "/v1/completions") { Content = new StringContent(json, Encoding.UTF8, "application/json") };
        using HttpResponseMessage resp = await h.Http.SendAsync(req);
        Assert.Equal(HttpStatusCode.OK, resp.StatusCode);
        string text = await resp.Content.ReadAsStringAsync();
        JsonElement? usage = null;
        foreach (string line in text.Split('\n'))
        {
            if (!line.StartsWith("data: {", StringComparison.Ordinal)) continue;
            JsonElement e = JsonDocument.Parse(line["data: ".Length..]).RootElement.Clone();
            if (e.TryGetProperty("usage", out JsonElement u) && u.ValueKind == JsonValueKind.Object) usage = u;
        }
        Assert.True(usage.HasValue, "no usage chunk in:\n" + text);
        return usage.Value;
    }

    private static void AssertClose(double expected, double actual, string what, double rel = 1e-9)
    {
        double tol = rel * Math.Max(Math.Abs(expected), Math.Abs(actual)) + 1e-15;
        Assert.True(Math.Abs(expected - actual) <= tol, $"{what}: expected {expected:R}, got {actual:R}");
    }

    [Fact]
    public async Task Metrics_after_requests_agree_with_the_usage_blocks()
    {
        await using var h = await ServerHarness.StartAsync(ConfigureEnergy);
        const string longPrompt = "Once upon a time there was a little girl named Lily. She loved to play outside in the park with her friends and her dog.";
        var usages = new Dictionary<string, List<(JsonElement Usage, string Finish)>> { ["stories260K"] = [], ["tiny-chat"] = [] };
        async Task Completion(string prompt, int max)
        {
            var r = await h.PostAsync("/v1/completions", $$"""{"model":"stories260K","prompt":"{{prompt}}","max_tokens":{{max}},"temperature":0}""");
            Assert.Equal(200, r.Status);
            usages["stories260K"].Add((r.Body.GetProperty("usage"), r.Body.GetProperty("choices")[0].GetProperty("finish_reason").GetString()!));
        }
        await Completion(longPrompt, 6);
        await Completion(longPrompt, 5);   // same prompt: its full blocks come from the prefix cache
        await Completion("One day", 7);
        JsonElement streamed = await StreamUsageAsync(h, """{"model":"stories260K","prompt":"The cat","max_tokens":4,"temperature":0,"stream":true,"stream_options":{"include_usage":true}}""");
        usages["stories260K"].Add((streamed, "length"));
        for (int i = 0; i < 2; i++)
        {
            var r = await h.PostAsync("/v1/chat/completions", $$"""{"model":"tiny-chat","messages":[{"role":"user","content":"hello {{i}}"}],"max_tokens":3,"temperature":0}""");
            Assert.Equal(200, r.Status);
            usages["tiny-chat"].Add((r.Body.GetProperty("usage"), r.Body.GetProperty("choices")[0].GetProperty("finish_reason").GetString()!));
        }
        Assert.True(usages["stories260K"].Sum(u => u.Usage.GetProperty("prompt_tokens_details").GetProperty("cached_tokens").GetInt32()) > 0,
            "the repeated prompt got no prefix-cache hit");

        PromText p = await ScrapeIdleAsync(h, "stories260K", "tiny-chat");
        foreach (var (model, list) in usages)
        {
            var m = ("model_name", model);
            int n = list.Count;
            int[] completion = [.. list.Select(u => u.Usage.GetProperty("completion_tokens").GetInt32())];
            foreach (JsonElement u in list.Select(x => x.Usage))
            {
                Assert.True(u.GetProperty("energy_joules").GetDouble() > 0, model);
                Assert.True(u.GetProperty("cost_usd").GetDouble() > 0, model);
                Assert.Equal("estimated", u.GetProperty("energy_source").GetString());
                AssertClose(JoulesPerDollar, u.GetProperty("energy_joules").GetDouble() / u.GetProperty("cost_usd").GetDouble(), "usage J/$", 0.05);
            }
            Assert.Equal(n, p.Single("quanta:time_to_first_token_seconds_count", m));
            Assert.Equal(n, p.Single("quanta:e2e_request_latency_seconds_count", m));
            Assert.Equal(n, p.Single("quanta:request_queue_time_seconds_count", m));
            Assert.Equal(completion.Count(c => c >= 2), p.Single("quanta:request_time_per_output_token_seconds_count", m));
            Assert.Equal(completion.Sum(c => c - 1), p.Single("quanta:inter_token_latency_seconds_count", m));
            Assert.Equal(n, p.Single("quanta:time_to_first_token_seconds_bucket", m, ("le", "+Inf")));
            Assert.Equal(list.Sum(u => u.Usage.GetProperty("prompt_tokens").GetInt32()), p.Single("quanta:prompt_tokens_total", m));
            Assert.Equal(completion.Sum(), p.Single("quanta:generation_tokens_total", m));
            Assert.Equal(list.Sum(u => u.Usage.GetProperty("prompt_tokens").GetInt32()), p.Single("quanta:prefix_cache_queries_total", m));
            Assert.Equal(list.Sum(u => u.Usage.GetProperty("prompt_tokens_details").GetProperty("cached_tokens").GetInt32()), p.Single("quanta:prefix_cache_hits_total", m));
            foreach (string reason in list.Select(u => u.Finish).Distinct())
                Assert.Equal(list.Count(u => u.Finish == reason), p.Single("quanta:request_success_total", m, ("finished_reason", reason)));
            Assert.Equal(n, p.Sum("quanta:request_success_total", m));
            double joules = list.Sum(u => u.Usage.GetProperty("energy_joules").GetDouble());
            double dollars = list.Sum(u => u.Usage.GetProperty("cost_usd").GetDouble());
            AssertClose(joules, p.Single("quanta:energy_joules_total", m, ("estimated", "true")), $"{model} energy counter vs usage");
            AssertClose(dollars, p.Single("quanta:cost_usd_total", m), $"{model} cost counter vs usage");
            Assert.Equal(0, p.Single("quanta:kv_cache_usage_perc", m));
            Assert.Equal(0, p.Single("quanta:num_requests_running", m));
            Assert.Equal(0, p.Single("quanta:num_requests_waiting", m));
            Assert.True(p.Single("quanta:iteration_tokens_total_count", m) > 0);
        }
        Assert.Equal(0, h.Server.Metrics.TrackedRequests);
    }

    [Fact]
    public async Task Metrics_is_open_without_a_key_and_usage_cost_follows_the_catalog_price()
    {
        // no power or price options: the device catalog's figures for this CPU (power model here: no RAPL in this VM)
        await using var h = await ServerHarness.StartAsync(o => o.ApiKeys = ["sk-k"]);
        Assert.Equal(401, (await h.PostAsync("/v1/completions", """{"model":"stories260K","prompt":"Once","max_tokens":2}""")).Status);
        var ok = await h.PostAsync("/v1/completions", """{"model":"stories260K","prompt":"Once","max_tokens":3}""", "sk-k");
        Assert.Equal(200, ok.Status);
        JsonElement u = ok.Body.GetProperty("usage");
        Assert.True(u.GetProperty("energy_joules").GetDouble() > 0);
        Assert.True(u.GetProperty("cost_usd").GetDouble() > 0);
        Assert.Equal(Quanta.Core.Devices.DevicePowerCatalog.ThisCpu.PriceUsdPerHour?.Value, h.Server.Metrics.PriceUsdPerHour);
        PromText p = await ScrapeAsync(h);   // no Authorization header
        Assert.Equal(1, p.Single("quanta:e2e_request_latency_seconds_count", ("model_name", "stories260K")));
    }

    [Fact]
    public async Task Disconnects_and_cancellations_leave_no_tracker_and_count_as_cancelled()
    {
        await using var h = await ServerHarness.StartAsync(ConfigureEnergy);
        ServingEngine engine = h.Server.Engines["stories260K"];
        // BOS (1) and EOS (2) are banned in both requests so neither can finish by itself before the client goes away
        // a streaming client that goes away after the first chunk
        using (var cts = new CancellationTokenSource())
        {
            using var req = new HttpRequestMessage(HttpMethod.Post, "/v1/completions")
            {
                Content = new StringContent("""{"model":"stories260K","prompt":"Once upon a time","max_tokens":400,"stream":true,"logit_bias":{"1":-100,"2":-100}}""", Encoding.UTF8, "application/json"),
            };
            using var resp = await h.Http.SendAsync(req, HttpCompletionOption.ResponseHeadersRead, cts.Token);
            using var reader = new StreamReader(await resp.Content.ReadAsStreamAsync(cts.Token));
            Assert.StartsWith("data: ", await reader.ReadLineAsync(cts.Token));
            await cts.CancelAsync();
        }
        // a non-streaming client that gives up while its request runs
        using (var cts = new CancellationTokenSource())
        {
            using var req = new HttpRequestMessage(HttpMethod.Post, "/v1/completions")
            {
                Content = new StringContent("""{"model":"stories260K","prompt":"Lily","max_tokens":400,"logit_bias":{"1":-100,"2":-100}}""", Encoding.UTF8, "application/json"),
            };
            for (int i = 0; i < 500 && h.Server.Metrics.TrackedRequests > 0; i++) await Task.Delay(10);   // the first one is gone
            Assert.Equal(0, h.Server.Metrics.TrackedRequests);
            Task<HttpResponseMessage> send = h.Http.SendAsync(req, cts.Token);
            for (int i = 0; i < 2500 && h.Server.Metrics.TrackedRequests == 0; i++) await Task.Delay(2);
            Assert.Equal(1, h.Server.Metrics.TrackedRequests);
            await cts.CancelAsync();
            await Assert.ThrowsAnyAsync<OperationCanceledException>(() => send);
        }
        PromText p = await ScrapeIdleAsync(h, "stories260K");
        Assert.Equal(0, h.Server.Metrics.TrackedRequests);
        Assert.Equal(0, engine.ActiveRequests);
        Assert.Equal(0, engine.Cache.Pool.UsedBlocks);
        Assert.Equal(0, p.Single("quanta:kv_cache_usage_perc", ("model_name", "stories260K")));
        var m = ("model_name", "stories260K");
        // the outcome is recorded when the engine retires the request, which may trail the tracker's removal by a step
        for (int i = 0; i < 250 && (p.Sum("quanta:request_success_total", m) < 2 || p.Single("quanta:e2e_request_latency_seconds_count", m) < 2); i++)
        {
            await Task.Delay(20);
            p = await ScrapeAsync(h);
        }
        double finished = p.Sum("quanta:request_success_total", m);
        double cancelled = p.Sum("quanta:request_success_total", m, ("finished_reason", "cancelled"));
        // Every request ends in exactly one outcome, counted once: cancelled or, when the run outpaced the client's
        // departure, length; and each has exactly one end-to-end latency sample.
        double length = p.Sum("quanta:request_success_total", m, ("finished_reason", "length"));
        Assert.True(finished == 2, p.Text);
        Assert.True(cancelled + length == finished, p.Text);
        Assert.Equal(finished, p.Single("quanta:e2e_request_latency_seconds_count", m));
    }
}
