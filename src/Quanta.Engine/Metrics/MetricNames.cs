namespace Quanta.Engine.Metrics;

/// <summary>
/// Names, label keys and histogram buckets of the serving metrics. Names mirror vLLM's (vllm:… → quanta:…); counters
/// are named without "_total", which the Prometheus exporter appends. Buckets are vLLM's (vllm/v1/metrics/loggers.py).
/// See docs/metrics.md for the full list with vLLM equivalents.
/// </summary>
public static class MetricNames
{
    /// <summary>Meter name of every serving instrument.</summary>
    public const string MeterName = "Quanta";

    /// <summary>Label: the served model (vLLM: model_name).</summary>
    public const string ModelLabel = "model_name";

    /// <summary>Label of the request counter: why the request ended (vLLM: finished_reason).</summary>
    public const string FinishReasonLabel = "finished_reason";

    /// <summary>Label of the energy counter: "true" when modelled, "false" when measured.</summary>
    public const string EstimatedLabel = "estimated";

#pragma warning disable CS1591 // names are self-describing; docs/metrics.md documents each
    public const string TimeToFirstToken = "quanta:time_to_first_token_seconds";
    public const string TimePerOutputToken = "quanta:request_time_per_output_token_seconds";
    public const string InterTokenLatency = "quanta:inter_token_latency_seconds";
    public const string E2eRequestLatency = "quanta:e2e_request_latency_seconds";
    public const string RequestQueueTime = "quanta:request_queue_time_seconds";
    public const string IterationTokens = "quanta:iteration_tokens_total";
    public const string RequestsRunning = "quanta:num_requests_running";
    public const string RequestsWaiting = "quanta:num_requests_waiting";
    public const string KvCacheUsage = "quanta:kv_cache_usage_perc";
    public const string PrefixCacheHitRate = "quanta:prefix_cache_hit_rate";
    public const string PrefixCacheQueries = "quanta:prefix_cache_queries";
    public const string PrefixCacheHits = "quanta:prefix_cache_hits";
    public const string PromptTokens = "quanta:prompt_tokens";
    public const string GenerationTokens = "quanta:generation_tokens";
    public const string Preemptions = "quanta:num_preemptions";
    public const string RequestSuccess = "quanta:request_success";
    public const string Energy = "quanta:energy_joules";
    public const string Cost = "quanta:cost_usd";
#pragma warning restore CS1591

    /// <summary>Time to first token buckets, seconds (vLLM's 22).</summary>
    public static IReadOnlyList<double> TimeToFirstTokenBuckets { get; } =
        [0.001, 0.005, 0.01, 0.02, 0.04, 0.06, 0.08, 0.1, 0.25, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5, 10.0, 20.0, 40.0, 80.0, 160.0, 640.0, 2560.0];

    /// <summary>Per-token latency buckets (time per output token, inter-token latency), seconds (vLLM's 19).</summary>
    public static IReadOnlyList<double> TokenLatencyBuckets { get; } =
        [0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.2, 0.3, 0.4, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5, 10.0, 20.0, 40.0, 80.0];

    /// <summary>Request latency buckets (end-to-end, queue), seconds (vLLM's 21).</summary>
    public static IReadOnlyList<double> RequestLatencyBuckets { get; } =
        [0.3, 0.5, 0.8, 1.0, 1.5, 2.0, 2.5, 5.0, 10.0, 15.0, 20.0, 30.0, 40.0, 50.0, 60.0, 120.0, 240.0, 480.0, 960.0, 1920.0, 7680.0];

    /// <summary>Tokens per engine step buckets (vLLM's iteration_tokens_total).</summary>
    public static IReadOnlyList<double> IterationTokenBuckets { get; } = [1, 8, 16, 32, 64, 128, 256, 512, 1024, 2048, 4096, 8192, 16384];
}
