using System.Diagnostics;
using Quanta.Engine.KvCache;
using Quanta.Engine.Scheduling;
using Quanta.Models.KvCache;

namespace Quanta.Planner.Simulation;

/// <summary>
/// Discrete-event simulation of one serving replica, driving the engine's own <see cref="Scheduler"/> (continuous
/// batching, chunked prefill within the token budget, paged KV-cache block limits, preemption by recomputation) and a
/// <see cref="SimulatedExecutor"/> on a <see cref="VirtualClock"/>. The loop is the engine loop's
/// schedule → execute → update cycle run synchronously: requests whose arrival time has passed are added before each
/// schedule (a request arriving during a step waits for the step to end, as with the real loop's command queue);
/// each step advances the clock by the step-time model's prediction; tokens sampled in a step are stamped with the
/// step's end. When nothing is in flight the clock jumps to the next arrival. No wall time, no sleeping, no threads.
/// <para>The KV cache does block bookkeeping only (one layer, one head of size one: no K/V storage worth the name);
/// prompts are made of one repeated token and the prefix cache is off, so no request reuses another's blocks.</para>
/// </summary>
public static class ServingSimulator
{
    private static readonly TokenSampler FixedToken = static _ => SimulatedExecutor.Token;

    /// <summary>Runs <paramref name="options"/> against <paramref name="model"/>'s step times.</summary>
    /// <exception cref="ArgumentException">Invalid options.</exception>
    public static SimulationResult Run(SimulationOptions options, IStepTimeModel model)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(model);
        options.Validate();
        var wall = Stopwatch.StartNew();
        int n = options.Requests;
        var rng = new Random(options.Seed);
        var arrival = new double[n];   // [n] seconds
        options.Arrival.Generate(arrival, options.Rate, rng);
        var promptLen = new int[n];    // [n]
        var outputLen = new int[n];    // [n]
        int maxSeq = 2, maxPrompt = 1;
        for (int i = 0; i < n; i++)
        {
            promptLen[i] = options.Prompt.Sample(rng);
            outputLen[i] = options.Output.Sample(rng);
            maxSeq = Math.Max(maxSeq, promptLen[i] + outputLen[i] + 1);
            maxPrompt = Math.Max(maxPrompt, promptLen[i]);
        }
        var promptTokens = new int[maxPrompt];   // [maxPrompt] one repeated token, shared by every request
        var clock = new VirtualClock();
        var cache = new PagedKvCache(1, 1, 1, options.KvBlocks, options.BlockSize, maxSeq, KvCacheType.F16);
        var scheduler = new Scheduler(cache, new SchedulerOptions { MaxBatchTokens = options.MaxBatchTokens, MaxRunning = options.MaxRunning, Time = clock });
        var executor = new SimulatedExecutor(model, clock, options.MaxBatchTokens, options.MaxRunning);

        var first = new double[n];     // [n] time of the first token
        var finish = new double[n];    // [n] time the request ended
        var tokens = new int[n];       // [n] tokens generated
        var reason = new FinishReason[n];
        Array.Fill(first, double.NaN);
        Array.Fill(finish, double.NaN);

        int next = 0, counted = 0, inSystem = 0, backlog = 0, maxWaiting = 0;
        long preemptions = 0;
        double area = 0, t = 0;   // ∫ requests-in-system dt, integrated up to t

        void IntegrateTo(double to)
        {
            // arrivals in (t, to] join the count at their own time; completions are removed where they happen
            area += inSystem * (to - t);
            while (counted < n && arrival[counted] <= to)
            {
                area += to - arrival[counted];
                counted++;
                inSystem++;
            }
            t = to;
        }

        void Finished(Sequence s, double when)
        {
            int i = (int)(s.Id - 1);
            finish[i] = when;
            reason[i] = s.FinishReason ?? FinishReason.Cancelled;
            inSystem--;
        }

        while (true)
        {
            double now = clock.Seconds;
            IntegrateTo(now);
            while (next < n && arrival[next] <= now)
            {
                Sequence s = scheduler.Add(new GenerationRequest
                {
                    Prompt = new ArraySegment<int>(promptTokens, 0, promptLen[next]),
                    MaxNewTokens = outputLen[next],
                    Sampler = FixedToken,
                    UsePrefixCache = false,
                });
                if (s.Id != next + 1) throw new InvalidOperationException($"scheduler ids are not dense: request {next} got sequence {s.Id}");
                next++;
                if (next == n) backlog = scheduler.LiveCount;
            }
            maxWaiting = Math.Max(maxWaiting, scheduler.WaitingCount);
            if (!scheduler.HasUnfinished)
            {
                if (next >= n) break;
                clock.AdvanceTo(arrival[next]);
                continue;
            }
            SchedulerOutput plan = scheduler.Schedule();
            foreach (Sequence s in plan.Finished) Finished(s, now);
            preemptions += plan.Preempted.Count;
            if (plan.IsEmpty)
            {
                if (next < n) { clock.AdvanceTo(arrival[next]); continue; }
                if (!scheduler.HasUnfinished) continue;
                throw new InvalidOperationException($"the scheduler made no progress with {scheduler.LiveCount} requests left and no arrival pending");
            }
            var result = executor.Execute(plan.ToBatch());
            double end = clock.Seconds;
            IntegrateTo(end);
            foreach (SequenceEvent e in scheduler.Update(plan, result))
            {
                int i = (int)(e.Sequence.Id - 1);
                if (e.Token >= 0)
                {
                    if (tokens[i]++ == 0) first[i] = end;
                }
                if (e.Finish != null) Finished(e.Sequence, end);
            }
        }
        IntegrateTo(clock.Seconds);
        if (inSystem != 0) throw new InvalidOperationException($"request conservation broken: {inSystem} requests left in the system");

        return Summarize(options, arrival, promptLen, outputLen, first, finish, tokens, reason, preemptions, executor, clock.Seconds, area,
            backlog, maxWaiting, wall.Elapsed.TotalSeconds);
    }

    private static SimulationResult Summarize(SimulationOptions o, double[] arrival, int[] promptLen, int[] outputLen, double[] first,
        double[] finish, int[] tokens, FinishReason[] reason, long preemptions, SimulatedExecutor executor, double endTime, double area,
        int backlog, int maxWaiting, double wallSeconds)
    {
        int n = arrival.Length;
        int warm = o.Arrival.IsOffline ? 0 : (int)(n * o.WarmupFraction);
        int m = n - warm;
        var ttft = new double[m];
        var tpot = new double[m];
        var e2e = new double[m];
        int nt = 0, ntp = 0, ne = 0, completed = 0, aborted = 0, good = 0;
        long outTokens = 0, inTokens = 0;
        double reqOverhead = executor.Model.RequestOverheadSeconds;   // host-side, outside the steps: TTFT and e2e only
        double windowEnd = double.NegativeInfinity, sumTime = 0;
        for (int i = 0; i < n; i++)
        {
            sumTime += finish[i] - arrival[i];
            if (reason[i] == FinishReason.Length || reason[i] == FinishReason.Stop) completed++;
            else aborted++;
            if (i < warm) continue;
            if (reason[i] is not (FinishReason.Length or FinishReason.Stop)) continue;
            double a = first[i] - arrival[i] + reqOverhead, e = finish[i] - arrival[i] + reqOverhead;
            double p = tokens[i] > 1 ? (finish[i] - first[i]) / (tokens[i] - 1) : double.NaN;
            ttft[nt++] = a;
            e2e[ne++] = e;
            if (!double.IsNaN(p)) tpot[ntp++] = p;
            if (o.Slo.RequestMeets(a, double.IsNaN(p) ? 0 : p, e)) good++;
            outTokens += tokens[i];
            inTokens += promptLen[i];
            windowEnd = Math.Max(windowEnd, finish[i]);
        }
        double windowStart = arrival[warm];
        double window = Math.Max(windowEnd - windowStart, 1e-12);
        double offered = o.Arrival.IsOffline ? double.PositiveInfinity
            : m > 1 ? (m - 1) / Math.Max(arrival[n - 1] - arrival[warm], 1e-12) : o.Rate;
        double span = Math.Max(endTime - arrival[0], 1e-12);
        var r = new SimulationResult
        {
            Requests = n,
            Measured = m,
            Completed = completed,
            Aborted = aborted,
            Preemptions = preemptions,
            Steps = executor.Steps,
            Ttft = LatencyStats.Of(ttft.AsSpan(0, nt)),
            Tpot = LatencyStats.Of(tpot.AsSpan(0, ntp)),
            E2e = LatencyStats.Of(e2e.AsSpan(0, ne)),
            RequestsPerSecond = ne / window,
            OutputTokensPerSecond = outTokens / window,
            TotalTokensPerSecond = (outTokens + inTokens) / window,
            GoodputRequestsPerSecond = good / window,
            OfferedRequestsPerSecond = offered,
            Utilization = Math.Min(1, executor.BusySeconds / span),
            MakespanSeconds = span,
            MeanInSystem = endTime > 0 ? area / endTime : 0,
            ArrivalRateOverRun = endTime > 0 ? n / endTime : double.PositiveInfinity,
            MeanTimeInSystem = sumTime / n,
            BacklogAtLastArrival = backlog,
            MaxWaiting = maxWaiting,
            MeanOutputTokens = ne > 0 ? (double)outTokens / ne : 0,
            MeanPromptTokens = ne > 0 ? (double)inTokens / ne : 0,
            WallSeconds = wallSeconds,
        };
        return r with { SloViolation = o.Slo.Violation(r) };
    }
}
