using Quanta.Engine.KvCache;
using Quanta.Engine.Scheduling;

namespace Quanta.Engine.Tests.Scheduling;

/// <summary>
/// Requests with an <see cref="ITokenObserver"/>: tokens reach the observer on the loop thread, in order, before the
/// completion; the token stream stays empty; what a submitter sets up before queueing is visible to the first token.
/// </summary>
public sealed class TokenObserverTests
{
    private sealed class Recorder : ITokenObserver
    {
        private readonly Func<bool>? _ready;

        public Recorder(Func<bool>? ready = null) => _ready = ready;

        public List<int> Tokens { get; } = [];
        public List<string?> Threads { get; } = [];
        public bool SawUnready { get; private set; }
        public RequestHandle? Handle { get; private set; }

        public void OnToken(RequestHandle handle, int token)
        {
            if (_ready is not null && !_ready()) SawUnready = true;
            Handle ??= handle;
            Tokens.Add(token);
            Threads.Add(Thread.CurrentThread.Name);
        }
    }

    [Fact]
    public async Task Tokens_reach_the_observer_on_the_loop_thread_in_order_and_the_stream_stays_empty()
    {
        int seed = Environment.TickCount;
        var rng = new Random(seed);
        var sched = new Scheduler(new PagedKvCache(1, 1, 4, 400, 4, 64), new SchedulerOptions { MaxBatchTokens = 16, MaxRunning = 4 });
        using var loop = new EngineLoop(sched, new FakeExecutor());
        var observed = new Recorder[5];
        var handles = new RequestHandle[5];
        for (int i = 0; i < handles.Length; i++)
        {
            observed[i] = new Recorder();
            handles[i] = loop.Submit(new GenerationRequest
            {
                Prompt = [.. Enumerable.Range(0, 1 + rng.Next(20)).Select(_ => rng.Next(50))],
                MaxNewTokens = 1 + rng.Next(12),
                Sampler = TokenSamplers.Greedy,
                Observer = observed[i],
            });
        }
        // a plain request alongside: its tokens still stream
        RequestHandle plain = loop.Submit(new GenerationRequest { Prompt = [7, 8, 9], MaxNewTokens = 5, Sampler = TokenSamplers.Greedy });
        var streamed = new List<int>();
        await foreach (int t in plain.Tokens().WithCancellation(new CancellationTokenSource(TimeSpan.FromSeconds(30)).Token)) streamed.Add(t);
        Assert.Equal((await plain.Completion).Tokens, streamed);

        for (int i = 0; i < handles.Length; i++)
        {
            GenerationResult r = await handles[i].Completion.WaitAsync(TimeSpan.FromSeconds(30));
            // the completion's continuation sees every token the observer got, in generation order
            Assert.True(r.Tokens.SequenceEqual(observed[i].Tokens), $"seed {seed}: request {i} observed [{string.Join(",", observed[i].Tokens)}], result [{string.Join(",", r.Tokens)}]");
            Assert.NotEmpty(r.Tokens);
            Assert.All(observed[i].Threads, n => Assert.Equal("Quanta engine loop", n));
            Assert.Same(handles[i], observed[i].Handle);
            var rest = new List<int>();
            await foreach (int t in handles[i].Tokens()) rest.Add(t);
            Assert.Empty(rest);
        }
    }

    [Fact]
    public async Task What_the_submitter_sets_up_before_queueing_is_in_place_for_the_first_token()
    {
        var sched = new Scheduler(new PagedKvCache(1, 1, 4, 100, 4, 64), new SchedulerOptions { MaxBatchTokens = 16, MaxRunning = 4 });
        using var loop = new EngineLoop(sched, new FakeExecutor());
        for (int round = 0; round < 20; round++)
        {
            bool ready = false;
            var rec = new Recorder(() => Volatile.Read(ref ready));
            long seenId = -1;
            RequestHandle h = loop.Submit(new GenerationRequest { Prompt = [1, 2], MaxNewTokens = 2, Sampler = TokenSamplers.Greedy, Observer = rec },
                beforeQueued: handle =>
                {
                    seenId = handle.Id;
                    Thread.Sleep(round % 4);   // a slow set-up must still finish before the loop runs the request
                    Volatile.Write(ref ready, true);
                });
            await h.Completion.WaitAsync(TimeSpan.FromSeconds(30));
            Assert.Equal(h.Id, seenId);
            Assert.Equal(2, rec.Tokens.Count);
            Assert.False(rec.SawUnready, $"round {round}: a token arrived before the submitter's set-up finished");
        }
    }
}
