using Quanta.Engine.Execution;
using Quanta.Engine.KvCache;
using Quanta.Engine.Metrics;
using Quanta.Engine.Scheduling;

namespace Quanta.Engine.Tests.Scheduling;

/// <summary>What the engine loop tells its observer: order of calls, token shares per request, idle state, failures.</summary>
public sealed class EngineLoopObserverTests
{
    private sealed class Recorder : IEngineLoopObserver
    {
        public List<(string Call, StepShare[] Shares, (int Running, int Waiting, int Preempted) State)> Events { get; } = [];

        public void StepStarting() { lock (Events) Events.Add(("start", [], default)); }

        public void StepExecuted(ReadOnlySpan<StepShare> shares)
        {
            StepShare[] copy = shares.ToArray();
            lock (Events) Events.Add(("executed", copy, default));
        }

        public void StepFailed() { lock (Events) Events.Add(("failed", [], default)); }

        public void StateChanged(int running, int waiting, int preempted) { lock (Events) Events.Add(("state", [], (running, waiting, preempted))); }

        public List<(string Call, StepShare[] Shares, (int Running, int Waiting, int Preempted) State)> Snapshot() { lock (Events) return [.. Events]; }
    }

    private sealed class ThrowingExecutor(IExecutor inner, int failOnCall) : IExecutor
    {
        private int _calls;
        public int VocabSize => inner.VocabSize;
        public int MaxBatchTokens => inner.MaxBatchTokens;
        public int MaxBatchSequences => inner.MaxBatchSequences;

        public ExecutionResult Execute(ExecutionBatch batch) =>
            ++_calls == failOnCall ? throw new InvalidOperationException("device lost") : inner.Execute(batch);
    }

    private static async Task<List<(string Call, StepShare[] Shares, (int Running, int Waiting, int Preempted) State)>> WaitIdleAsync(Recorder r)
    {
        for (int i = 0; i < 500; i++)
        {
            var ev = r.Snapshot();
            if (ev.Count > 0 && ev[^1] is ("state", _, (0, 0, 0))) return ev;
            await Task.Delay(10);
        }
        return r.Snapshot();
    }

    [Fact]
    public async Task Steps_are_reported_in_order_with_each_requests_token_share_and_idle_at_the_end()
    {
        int seed = Environment.TickCount;
        var rng = new Random(seed);
        var sched = new Scheduler(new PagedKvCache(1, 1, 4, 200, 4, 64), new SchedulerOptions { MaxBatchTokens = 16, MaxRunning = 4 });
        var rec = new Recorder();
        RequestHandle[] handles;
        GenerationResult[] results;
        using (var loop = new EngineLoop(sched, new FakeExecutor(), rec))
        {
            handles = [.. Enumerable.Range(0, 6).Select(i => loop.Submit(new GenerationRequest
            {
                Prompt = [i, .. Enumerable.Range(0, 1 + rng.Next(25)).Select(_ => rng.Next(50))],
                MaxNewTokens = 1 + rng.Next(6),
                Sampler = TokenSamplers.Greedy,
            }))];
            results = await Task.WhenAll(handles.Select(h => h.Completion)).WaitAsync(TimeSpan.FromSeconds(30));
            var events = await WaitIdleAsync(rec);
            Assert.True(events[^1] is ("state", _, (0, 0, 0)), $"seed {seed}: the loop did not report going idle");
            Assert.Equal(0, loop.ActiveRequests);

            // per step: start, executed, state (the idle report may follow a state)
            int steps = 0;
            for (int i = 0; i < events.Count; i++)
            {
                if (events[i].Call != "start") { Assert.Equal("state", events[i].Call); continue; }
                Assert.Equal("executed", events[i + 1].Call);
                Assert.Equal("state", events[i + 2].Call);
                steps++;
                i += 2;
            }
            Assert.Equal(loop.Steps, steps);

            // a request's shares add up to the tokens it made the engine compute: uncached prompt + generated − 1
            var byId = new Dictionary<long, int>();
            foreach (var e in events.Where(e => e.Call == "executed"))
            foreach (StepShare s in e.Shares)
                byId[s.RequestId] = byId.GetValueOrDefault(s.RequestId) + s.Tokens;
            Assert.Equal(handles.Select(h => h.Id).Order(), byId.Keys.Order());
            for (int i = 0; i < handles.Length; i++)
            {
                GenerationResult r = results[i];
                Assert.Equal(0, r.Preemptions);
                Assert.True(r.PromptTokens - r.CachedTokens + r.Tokens.Count - 1 == byId[handles[i].Id], $"seed {seed}: request {i}");
            }
        }
        Assert.Equal(0, sched.Cache.Pool.UsedBlocks);
    }

    [Fact]
    public async Task A_failing_step_is_reported_as_failed_and_the_loop_then_goes_idle()
    {
        var sched = new Scheduler(new PagedKvCache(1, 1, 4, 100, 4, 64), new SchedulerOptions { MaxBatchTokens = 8, MaxRunning = 4 });
        var rec = new Recorder();
        using var loop = new EngineLoop(sched, new ThrowingExecutor(new FakeExecutor(), failOnCall: 3), rec);
        var h = loop.Submit(new GenerationRequest { Prompt = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12], MaxNewTokens = 10, Sampler = TokenSamplers.Greedy });
        await Assert.ThrowsAsync<InvalidOperationException>(() => h.Completion.WaitAsync(TimeSpan.FromSeconds(30)));
        var events = await WaitIdleAsync(rec);
        string[] calls = [.. events.Select(e => e.Call)];
        Assert.Equal(["start", "executed", "state", "start", "executed", "state", "start", "failed", "state"], calls);
        Assert.Equal(0, loop.ActiveRequests);
        Assert.Equal(0, sched.Cache.Pool.UsedBlocks);
    }
}
