using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Text;
using Quanta.Engine.Serving;
using Xunit.Abstractions;

namespace Quanta.Server.Tests;

/// <summary>Runs alone: it measures the process's memory, which parallel tests would disturb.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class SoakCollection
{
    public const string Name = "soak (alone)";
}

/// <summary>
/// The issue's acceptance test: 1,000 loopback requests from concurrent clients with random cancellations and
/// disconnects leave no KV block held, no request tracked, and the managed heap and resident set where they were.
/// </summary>
[Collection(SoakCollection.Name)]
public sealed class SoakTests(ITestOutputHelper output)
{
    private const int Requests = 1000, WarmUp = 300, Clients = 8;

    private static long RssBytes()
    {
        foreach (string line in File.ReadLines("/proc/self/status"))
        {
            if (!line.StartsWith("VmRSS:", StringComparison.Ordinal)) continue;
            string kb = line["VmRSS:".Length..].Trim().Split(' ')[0];
            return long.Parse(kb, CultureInfo.InvariantCulture) * 1024;
        }
        throw new InvalidOperationException("no VmRSS in /proc/self/status");
    }

    private static long HeapAfterFullGc()
    {
        for (int i = 0; i < 3; i++)
        {
            GC.Collect(2, GCCollectionMode.Aggressive, blocking: true, compacting: true);   // aggressive: also decommits free GC memory
            GC.WaitForPendingFinalizers();
        }
        return GC.GetTotalMemory(forceFullCollection: true);
    }

    private enum Kind { Complete, Stream, StreamDisconnect, CancelWhileRunning, Chat, StopString }

    // One client request; returns what happened (for the figures) and never throws on a cancellation it caused.
    private static async Task<Kind> OneAsync(ServerHarness h, Random rng)
    {
        var kind = (Kind)rng.Next(6);
        int max = 1 + rng.Next(8);
        string[] starts = ["Once", "Once upon a time", "The cat", "Lily", "Tom was", "A big dog", "One day", "She"];
        string prompt = starts[rng.Next(starts.Length)];
        string path = "/v1/completions";
        string json = kind switch
        {
            Kind.Stream or Kind.StreamDisconnect => $$"""{"model":"stories260K","prompt":"{{prompt}}","max_tokens":{{(kind == Kind.StreamDisconnect ? 200 : max)}},"stream":true,"stream_options":{"include_usage":true} }""",
            Kind.Chat => $$"""{"model":"tiny-chat","messages":[{"role":"user","content":"{{prompt}}"}],"max_tokens":{{max}}}""",
            Kind.StopString => $$"""{"model":"stories260K","prompt":"{{prompt}}","max_tokens":{{max + 8}},"stop":["e"]}""",
            Kind.CancelWhileRunning => $$"""{"model":"stories260K","prompt":"{{prompt}}","max_tokens":200}""",
            _ => $$"""{"model":"stories260K","prompt":"{{prompt}}","max_tokens":{{max}},"temperature":0.8,"seed":{{rng.Next()}}}""",
        };
        if (kind == Kind.Chat) path = "/v1/chat/completions";
        using var cts = new CancellationTokenSource();
        using var req = new HttpRequestMessage(HttpMethod.Post, path) { Content = new StringContent(json, Encoding.UTF8, "application/json") };
        try
        {
            if (kind == Kind.CancelWhileRunning) cts.CancelAfter(rng.Next(1, 15));
            using HttpResponseMessage resp = await h.Http.SendAsync(req, HttpCompletionOption.ResponseHeadersRead, cts.Token);
            Assert.Equal(HttpStatusCode.OK, resp.StatusCode);
            using var reader = new StreamReader(await resp.Content.ReadAsStreamAsync(cts.Token));
            if (kind == Kind.StreamDisconnect)
            {
                for (int i = rng.Next(1, 4); i > 0; i--) await reader.ReadLineAsync(cts.Token);
                await cts.CancelAsync();
                return kind;
            }
            string body = await reader.ReadToEndAsync(cts.Token);
            Assert.False(string.IsNullOrEmpty(body));
        }
        catch (OperationCanceledException) when (cts.IsCancellationRequested)
        {
            // this client gave up: the server must clean up
        }
        return kind;
    }

    private static async Task<Dictionary<Kind, int>> RunAsync(ServerHarness h, int count, int seed)
    {
        int next = -1;
        var kinds = new Dictionary<Kind, int>();
        async Task Client(int c)
        {
            var rng = new Random(seed * 31 + c);
            while (Interlocked.Increment(ref next) < count)
            {
                Kind k = await OneAsync(h, rng);
                lock (kinds) kinds[k] = kinds.GetValueOrDefault(k) + 1;
            }
        }
        await Task.WhenAll(Enumerable.Range(0, Clients).Select(Client));
        return kinds;
    }

    private static async Task WaitIdleAsync(ServerHarness h)
    {
        for (int i = 0; i < 1000; i++)
        {
            if (h.Server.Metrics.TrackedRequests == 0 && h.Server.InFlight == 0 &&
                h.Server.Engines.Values.All(e => e.Outstanding == 0 && e.ActiveRequests == 0 && e.Cache.Pool.UsedBlocks == 0))
                return;
            await Task.Delay(10);
        }
    }

    [Fact]
    public async Task A_thousand_requests_with_cancellations_and_disconnects_leak_nothing()
    {
        int seed = Environment.TickCount;
        await using var h = await ServerHarness.StartAsync();
        await RunAsync(h, WarmUp, seed + 1);
        await WaitIdleAsync(h);
        long heapBefore = HeapAfterFullGc();
        long rssBefore = RssBytes();

        var sw = Stopwatch.StartNew();
        Dictionary<Kind, int> kinds = await RunAsync(h, Requests, seed);
        TimeSpan run = sw.Elapsed;
        await WaitIdleAsync(h);
        long heapAfter = HeapAfterFullGc();
        long rssAfter = RssBytes();

        var p = new PromText(await h.Http.GetStringAsync("/metrics"));
        double finished = p.Sum("quanta:request_success_total");
        double cancelled = p.Sum("quanta:request_success_total", ("finished_reason", "cancelled"));
        string figures = string.Create(CultureInfo.InvariantCulture,
            $"seed {seed}: {Requests} requests ({string.Join(", ", kinds.OrderBy(k => k.Key).Select(k => $"{k.Key} {k.Value}"))}) by {Clients} clients in {run.TotalSeconds:F1} s; " +
            $"finished in the engine {finished} (cancelled {cancelled}); heap after full GC {heapBefore / 1048576.0:F2} -> {heapAfter / 1048576.0:F2} MiB " +
            $"({(heapAfter - heapBefore) / 1024.0:+0;-0} KiB); VmRSS {rssBefore / 1048576.0:F1} -> {rssAfter / 1048576.0:F1} MiB ({100.0 * (rssAfter - rssBefore) / rssBefore:+0.0;-0.0} %)");
        output.WriteLine(figures);
        File.WriteAllText(Path.Combine(Path.GetTempPath(), "quanta-soak-figures.txt"), figures + Environment.NewLine);

        foreach (ServingEngine e in h.Server.Engines.Values)
        {
            Assert.True(e.Cache.Pool.UsedBlocks == 0, $"{e.Id}: {e.Cache.Pool.UsedBlocks} KV blocks held; {figures}");
            Assert.True(e.ActiveRequests == 0, $"{e.Id}: {e.ActiveRequests} requests left in the engine loop; {figures}");
            Assert.True(e.Outstanding == 0, $"{e.Id}: {e.Outstanding} sequences outstanding; {figures}");
            Assert.Equal(0, p.Single("quanta:kv_cache_usage_perc", ("model_name", e.Id)));
        }
        Assert.True(h.Server.Metrics.TrackedRequests == 0, $"{h.Server.Metrics.TrackedRequests} requests still tracked; {figures}");
        Assert.True(kinds.GetValueOrDefault(Kind.StreamDisconnect) > 0 && kinds.GetValueOrDefault(Kind.CancelWhileRunning) > 0, figures);
        Assert.True(cancelled > 0, "no request was cancelled in the engine; " + figures);
        Assert.True(heapAfter - heapBefore < 4L << 20, "managed heap grew by 4 MiB or more; " + figures);
        Assert.True(Math.Abs(rssAfter - rssBefore) <= 0.10 * rssBefore, "VmRSS moved by more than 10%; " + figures);
        Assert.True(run < TimeSpan.FromSeconds(120), figures);
    }
}
