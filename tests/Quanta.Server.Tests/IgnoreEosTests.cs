namespace Quanta.Server.Tests;

/// <summary>ignore_eos (vLLM extension, used by the benchmarks): end tokens no longer end the choice.</summary>
public sealed class IgnoreEosTests
{
    [Fact]
    public async Task End_tokens_end_the_choice_unless_ignore_eos()
    {
        await using var h = await ServerHarness.StartAsync();
        // EOS (2) made all but certain: without ignore_eos the first token ends the choice
        var stop = await h.PostAsync("/v1/completions", """{"model":"stories260K","prompt":"Once","max_tokens":6,"logit_bias":{"2":100}}""");
        Assert.Equal(200, stop.Status);
        Assert.Equal("stop", stop.Body.GetProperty("choices")[0].GetProperty("finish_reason").GetString());
        Assert.Equal(1, stop.Body.GetProperty("usage").GetProperty("completion_tokens").GetInt32());
        var all = await h.PostAsync("/v1/completions", """{"model":"stories260K","prompt":"Once","max_tokens":6,"logit_bias":{"2":100},"ignore_eos":true}""");
        Assert.Equal(200, all.Status);
        Assert.Equal("length", all.Body.GetProperty("choices")[0].GetProperty("finish_reason").GetString());
        Assert.Equal(6, all.Body.GetProperty("usage").GetProperty("completion_tokens").GetInt32());
    }
}
