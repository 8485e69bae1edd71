using System.Text.Json;

namespace Quanta.Server.Tests;

/// <summary>n choices, chat-format logprobs, deadlines and the per-key rate limit.</summary>
public sealed class ParameterTests
{
    [Fact]
    public async Task N_choices_chat_logprobs_and_deadline()
    {
        await using var h = await ServerHarness.StartAsync(o => { o.RateLimitPerMinute = 1; o.RateLimitBurst = 2; o.ApiKeys = ["k1", "k2"]; });
        var (status, body, _) = await h.PostAsync("/v1/chat/completions",
            """{"model":"tiny-chat","messages":[{"role":"user","content":[{"type":"text","text":"hi"}]}],"n":3,"seed":7,"max_tokens":6,"logprobs":true,"top_logprobs":2}""", "k1");
        Assert.Equal(200, status);
        var choices = body.GetProperty("choices").EnumerateArray().ToArray();
        Assert.Equal([0, 1, 2], choices.Select(c => c.GetProperty("index").GetInt32()).ToArray());
        Assert.Equal(18, body.GetProperty("usage").GetProperty("completion_tokens").GetInt32());
        foreach (JsonElement c in choices)
        {
            var content = c.GetProperty("logprobs").GetProperty("content").EnumerateArray().ToArray();
            Assert.Equal(6, content.Length);
            foreach (JsonElement t in content)
            {
                var top = t.GetProperty("top_logprobs").EnumerateArray().ToArray();
                Assert.Equal(2, top.Length);
                Assert.True(top[0].GetProperty("logprob").GetSingle() >= top[1].GetProperty("logprob").GetSingle());
                Assert.True(t.GetProperty("logprob").GetSingle() <= 0);
            }
        }
        // greedy choices are all the same; seeded sampling is reproducible
        var (_, again, _) = await h.PostAsync("/v1/chat/completions",
            """{"model":"tiny-chat","messages":[{"role":"user","content":"hi"}],"n":3,"seed":7,"max_tokens":6}""", "k1");
        Assert.Equal(choices.Select(c => c.GetProperty("message").GetProperty("content").GetString()),
            again.GetProperty("choices").EnumerateArray().Select(c => c.GetProperty("message").GetProperty("content").GetString()));

        // k1 has used its burst of 2 (refill: 1 a minute): the next gets 429 with Retry-After; k2 has its own bucket
        var limited = await h.PostAsync("/v1/completions", """{"model":"stories260K","prompt":"x","max_tokens":1}""", "k1");
        Assert.Equal(429, limited.Status);
        Assert.Equal("rate_limit_exceeded", limited.Body.GetProperty("error").GetProperty("code").GetString());
        Assert.True(int.Parse(limited.Response.Headers.GetValues("Retry-After").Single()) >= 1);
        var deadline = await h.PostAsync("/v1/completions", """{"model":"stories260K","prompt":"Once","max_tokens":400,"deadline_ms":1}""", "k2");
        Assert.Equal(200, deadline.Status);
        Assert.Equal("deadline", deadline.Body.GetProperty("choices")[0].GetProperty("finish_reason").GetString());
    }
}
