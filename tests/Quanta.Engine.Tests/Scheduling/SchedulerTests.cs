using Quanta.Engine.KvCache;
using Quanta.Engine.Scheduling;

namespace Quanta.Engine.Tests.Scheduling;

/// <summary>The scheduler contract, checked with a deterministic fake executor.</summary>
public sealed class SchedulerTests
{
    private static GenerationRequest Req(int[] prompt, int max = 8, int priority = 0, DateTimeOffset? deadline = null, int[]? stop = null) => new()
    {
        Prompt = prompt, MaxNewTokens = max, Sampler = TokenSamplers.Greedy, Priority = priority, Deadline = deadline, StopTokens = stop ?? [],
    };

    private static int[] Prompt(int n, int salt) => Enumerable.Range(0, n).Select(i => (i * 7 + salt * 13) % 50).ToArray();

    private static PagedKvCache Cache(int blocks = 200, int bs = 4, int maxLen = 256) => new(1, 1, 4, blocks, bs, maxLen);

    /// <summary>Runs to completion; returns every finished sequence's generated tokens by request index.</summary>
    private static Dictionary<Sequence, int[]> RunAll(Scheduler s, FakeExecutor ex, int maxSteps = 100_000)
    {
        var done = new Dictionary<Sequence, int[]>();
        for (int step = 0; s.HasUnfinished && step < maxSteps; step++)
        {
            var plan = s.Schedule();
            Assert.True(plan.TotalTokens <= s.Options.MaxBatchTokens);
            foreach (var f in plan.Finished) done[f] = f.Generated.ToArray();
            if (plan.IsEmpty) continue;
            foreach (var e in s.Update(plan, ex.Execute(plan.ToBatch())))
                if (e.Finish != null) done[e.Sequence] = e.Sequence.Generated.ToArray();
        }
        Assert.False(s.HasUnfinished);
        return done;
    }

    [Fact]
    public void Prefill_is_chunked_within_the_budget_and_logits_come_only_with_the_last_chunk()
    {
        var s = new Scheduler(Cache(), new SchedulerOptions { MaxBatchTokens = 8 });
        var seq = s.Add(Req(Prompt(20, 1), max: 2));
        var ex = new FakeExecutor();
        var sizes = new List<(int Start, int Count, bool Logits)>();
        while (s.HasUnfinished)
        {
            var plan = s.Schedule();
            Assert.Single(plan.Work);
            sizes.Add((plan.Work[0].StartPosition, plan.Work[0].Count, plan.Work[0].NeedsLogits));
            s.Update(plan, ex.Execute(plan.ToBatch()));
        }
        Assert.Equal(new[] { (0, 8, false), (8, 8, false), (16, 4, true), (20, 1, true) }, sizes);
        Assert.Equal(FinishReason.Length, seq.FinishReason);
        Assert.Equal(2, seq.GeneratedCount);
    }

    [Fact]
    public void Decodes_go_first_and_prefill_takes_the_remaining_budget()
    {
        var s = new Scheduler(Cache(), new SchedulerOptions { MaxBatchTokens = 10 });
        var ex = new FakeExecutor();
        var a = s.Add(Req(Prompt(5, 1), max: 50));
        var b = s.Add(Req(Prompt(3, 2), max: 50));
        var plan = s.Schedule();   // both prefill whole prompts: 5 + 3
        Assert.Equal(new[] { (a, 5), (b, 3) }, plan.Work.Select(w => (w.Sequence, w.Count)));
        s.Update(plan, ex.Execute(plan.ToBatch()));
        var c = s.Add(Req(Prompt(30, 3), max: 5, priority: -1));   // higher priority, but still after decodes
        plan = s.Schedule();
        Assert.Equal(new[] { (a, 1), (b, 1), (c, 8) }, plan.Work.Select(w => (w.Sequence, w.Count)));
        Assert.True(plan.Work[0].IsDecode && plan.Work[1].IsDecode && !plan.Work[2].IsDecode);
        Assert.Equal(10, plan.TotalTokens);
    }

    [Fact]
    public void At_most_MaxRunning_sequences_run_and_lower_priority_values_are_admitted_first()
    {
        var s = new Scheduler(Cache(), new SchedulerOptions { MaxBatchTokens = 100, MaxRunning = 2 });
        var ex = new FakeExecutor();
        var late = s.Add(Req(Prompt(4, 1), priority: 5));
        var first = s.Add(Req(Prompt(4, 2), priority: 0));
        var second = s.Add(Req(Prompt(4, 3), priority: 0));
        var urgent = s.Add(Req(Prompt(4, 4), priority: -3));
        var plan = s.Schedule();
        Assert.Equal(new[] { urgent, first }, plan.Work.Select(w => w.Sequence));
        Assert.Equal(2, s.RunningCount);
        Assert.Equal(2, s.WaitingCount);
        var order = new List<Sequence>();
        while (s.HasUnfinished)
        {
            Assert.True(s.RunningCount <= 2);
            foreach (var w in plan.Work) if (!order.Contains(w.Sequence)) order.Add(w.Sequence);
            s.Update(plan, ex.Execute(plan.ToBatch()));
            plan = s.Schedule();
        }
        Assert.Equal(new[] { urgent, first, second, late }, order);
    }

    [Fact]
    public void Preemption_by_recomputation_gives_the_same_tokens_as_an_unconstrained_run()
    {
        int seed = Random.Shared.Next();
        var rng = new Random(seed);
        var reqs = Enumerable.Range(0, 12).Select(i => Req(Prompt(3 + rng.Next(20), i), max: 10 + rng.Next(20), priority: rng.Next(3))).ToArray();

        var free = new Scheduler(Cache(blocks: 1000), new SchedulerOptions { MaxBatchTokens = 64, MaxRunning = 16 });
        var freeSeqs = reqs.Select(free.Add).ToArray();
        var expected = RunAll(free, new FakeExecutor());

        var tight = new Scheduler(Cache(blocks: 20), new SchedulerOptions { MaxBatchTokens = 64, MaxRunning = 16 });
        var tightSeqs = reqs.Select(tight.Add).ToArray();
        var actual = RunAll(tight, new FakeExecutor());
        Assert.True(tightSeqs.Sum(q => q.Preemptions) > 0, $"seed {seed}: the tight pool should force preemptions");
        for (int i = 0; i < reqs.Length; i++)
        {
            Assert.Equal(FinishReason.Length, tightSeqs[i].FinishReason);
            Assert.True(expected[freeSeqs[i]].SequenceEqual(actual[tightSeqs[i]]), $"seed {seed}: request {i} differs after {tightSeqs[i].Preemptions} preemptions");
        }
        Assert.Equal(0, tight.Cache.Pool.UsedBlocks);
    }

    [Fact]
    public void Cancellation_frees_every_block_of_running_and_waiting_sequences()
    {
        var s = new Scheduler(Cache(blocks: 30), new SchedulerOptions { MaxBatchTokens = 32, MaxRunning = 2 });
        var ex = new FakeExecutor();
        var a = s.Add(Req(Prompt(9, 1), max: 40));
        var b = s.Add(Req(Prompt(9, 2), max: 40));
        var c = s.Add(Req(Prompt(9, 3), max: 40));
        for (int i = 0; i < 3; i++)
        {
            var plan = s.Schedule();
            s.Update(plan, ex.Execute(plan.ToBatch()));
        }
        Assert.Equal(SequenceStatus.Running, a.Status);
        Assert.True(s.Cache.Pool.UsedBlocks > 0);
        Assert.True(s.Cancel(c.Id));   // waiting
        Assert.True(s.Cancel(a.Id));
        Assert.True(s.Cancel(b.Id));
        Assert.False(s.Cancel(b.Id));
        Assert.Equal(0, s.Cache.Pool.UsedBlocks);
        Assert.All(new[] { a, b, c }, q => Assert.Equal(FinishReason.Cancelled, q.FinishReason));
        Assert.All(new[] { a, b, c }, q => Assert.Null(q.Kv));
        Assert.False(s.HasUnfinished);
    }

    [Fact]
    public void Expired_deadlines_finish_waiting_and_running_sequences()
    {
        var time = new ManualTime();
        var s = new Scheduler(Cache(), new SchedulerOptions { MaxBatchTokens = 64, MaxRunning = 1, Time = time });
        var ex = new FakeExecutor();
        var run = s.Add(Req(Prompt(4, 1), max: 100, deadline: time.Now.AddSeconds(10)));
        var wait = s.Add(Req(Prompt(4, 2), max: 100, deadline: time.Now.AddSeconds(5)));
        var keep = s.Add(Req(Prompt(4, 3), max: 3));
        var plan = s.Schedule();
        s.Update(plan, ex.Execute(plan.ToBatch()));
        time.Now = time.Now.AddSeconds(6);
        plan = s.Schedule();
        Assert.Equal(new[] { wait }, plan.Finished);
        s.Update(plan, ex.Execute(plan.ToBatch()));
        time.Now = time.Now.AddSeconds(6);
        plan = s.Schedule();
        Assert.Equal(new[] { run }, plan.Finished);
        Assert.Equal(FinishReason.Deadline, run.FinishReason);
        Assert.Equal(FinishReason.Deadline, wait.FinishReason);
        Assert.Equal(keep, Assert.Single(plan.Work).Sequence);
        s.Update(plan, ex.Execute(plan.ToBatch()));
        RunAll(s, ex);
        Assert.Equal(FinishReason.Length, keep.FinishReason);
        Assert.Equal(0, s.Cache.Pool.UsedBlocks);
    }

    [Fact]
    public void Stop_tokens_finish_a_sequence_and_prefix_hits_are_counted()
    {
        var s = new Scheduler(Cache(bs: 4), new SchedulerOptions { MaxBatchTokens = 64 });
        var ex = new FakeExecutor();
        int[] prompt = Prompt(13, 9);
        var probe = s.Add(Req(prompt, max: 1));
        RunAll(s, ex);
        int first = probe.Generated[0];
        var stopped = s.Add(Req(prompt, max: 10, stop: [first]));
        RunAll(s, ex);
        Assert.Equal(FinishReason.Stop, stopped.FinishReason);
        Assert.Equal(new[] { first }, stopped.Generated.ToArray());
        Assert.Equal(0, probe.CachedTokens);
        Assert.Equal(12, stopped.CachedTokens);   // three full blocks of four
    }

    [Fact]
    public void A_thousand_random_requests_with_random_cancellations_leave_nothing_behind()
    {
        int seed = Random.Shared.Next();
        var rng = new Random(seed);
        var s = new Scheduler(Cache(blocks: 60, bs: 4, maxLen: 64), new SchedulerOptions { MaxBatchTokens = 48, MaxRunning = 8 });
        var ex = new FakeExecutor();
        var all = new List<Sequence>();
        int added = 0;
        for (int step = 0; step < 200_000 && (added < 1000 || s.HasUnfinished); step++)
        {
            for (int k = rng.Next(3); k > 0 && added < 1000; k--, added++)
                all.Add(s.Add(Req(Enumerable.Range(0, 1 + rng.Next(30)).Select(_ => rng.Next(4)).ToArray(), max: 1 + rng.Next(20), priority: rng.Next(3))));
            if (rng.Next(4) == 0 && all.Count > 0) s.Cancel(all[rng.Next(all.Count)].Id);
            var plan = s.Schedule();
            if (!plan.IsEmpty) s.Update(plan, ex.Execute(plan.ToBatch()));
        }
        Assert.Equal(1000, added);
        Assert.False(s.HasUnfinished, $"seed {seed}");
        Assert.Equal(0, s.RunningCount + s.WaitingCount);
        Assert.True(s.Cache.Pool.UsedBlocks == 0, $"seed {seed}: {s.Cache.Pool.UsedBlocks} blocks held");
        Assert.All(all, q => Assert.Equal(SequenceStatus.Finished, q.Status));
        Assert.All(all, q => Assert.Null(q.Kv));
        Assert.Contains(all, q => q.FinishReason == FinishReason.Cancelled);
        Assert.Contains(all, q => q.FinishReason == FinishReason.Length);
    }
}
