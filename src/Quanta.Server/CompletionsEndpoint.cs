using System.Text;
using Microsoft.AspNetCore.Http;
using Quanta.Engine.Serving;
using Quanta.Server.Protocol;

namespace Quanta.Server;

/// <summary>POST /v1/completions: the legacy completions API (one prompt: a string or token ids), streaming or not.</summary>
internal static class CompletionsEndpoint
{
    public static async Task HandleAsync(HttpContext ctx, QuantaServer server)
    {
        DateTimeOffset arrival = DateTimeOffset.UtcNow;
        CompletionRequest body = await Http.ReadJsonAsync(ctx, ServerJsonContext.Default.CompletionRequest).ConfigureAwait(false);
        ServingEngine engine = server.FindModel(body.Model);
        if (!string.IsNullOrEmpty(body.Suffix)) throw ApiException.BadParam("suffix", "suffix is not supported");
        if (body.Logprobs is < 0 or > 5) throw ApiException.BadParam("logprobs", $"logprobs must be in 0..5, got {body.Logprobs}");
        if (body.BestOf is { } bo && bo != (body.N ?? 1)) throw ApiException.BadParam("best_of", "best_of other than n is not supported");
        bool echo = body.Echo == true;
        if (echo && body.Stream == true) throw ApiException.BadParam("echo", "echo is not supported with stream");
        // OpenAI's default for completions is 16 tokens
        int? max = body.MaxTokens ?? (server.Options.MaxTokens > 0 ? Math.Min(16, server.Options.MaxTokens) : 16);
        var sampling = RequestMapping.Sampling(body, max, server.Options.MaxTokens, body.Logprobs is not null, body.Logprobs ?? 0, engine.Model.Tokenizer.VocabSize);
        int[] prompt = RequestMapping.CompletionPrompt(body.Prompt, engine);
        var request = new ServingRequest { Prompt = prompt, Sampling = sampling, Priority = body.Priority ?? 0, Deadline = RequestMapping.Deadline(body, arrival), IgnoreEos = body.IgnoreEos ?? false };
        ServingCall call = server.Submit(engine, request, "prompt", ctx.RequestAborted);
        string id = "cmpl-" + Guid.NewGuid().ToString("N");
        long created = arrival.ToUnixTimeSeconds();
        var info = ServerJsonContext.Default.CompletionResponse;
        int n = call.Choices;
        if (body.Stream == true)
        {
            CancellationToken ct = ctx.RequestAborted;
            using var sse = new Sse(ctx.Response);
            var offsets = new int[n];
            // every delta already produced goes out in one flush
            while (await call.WaitToReadAsync(ct).ConfigureAwait(false))
            {
                bool any = false;
                while (call.TryRead(out ServingDelta? d))
                {
                    if (d.Text.Length == 0 && d.Logprob is null && d.Finish is null) continue;
                    var choice = new CompletionChoice { Index = d.Choice, Text = d.Text, FinishReason = d.Finish is { } f ? RequestMapping.FinishReason(f) : null };
                    if (d.Logprob is { } lp)
                    {
                        choice.Logprobs = new CompletionLogprobs();
                        Add(choice.Logprobs, engine, lp, offsets[d.Choice]);
                    }
                    offsets[d.Choice] += d.Text.Length;
                    sse.Append(new CompletionResponse { Id = id, Created = created, Model = engine.Id, Choices = [choice] }, info);
                    any = true;
                }
                if (any) await sse.FlushAsync(ct).ConfigureAwait(false);
            }
            ServingUsage usage = await call.Usage.ConfigureAwait(false);
            if (body.StreamOptions?.IncludeUsage == true)
                sse.Append(new CompletionResponse { Id = id, Created = created, Model = engine.Id, Usage = RequestMapping.Usage(usage) }, info);
            sse.AppendDone();
            await sse.FlushAsync(ct).ConfigureAwait(false);
            return;
        }

        string prefix = echo ? engine.Model.Tokenizer.Decode(prompt, removeSpecial: true) : "";
        var text = new StringBuilder[n];
        var choices = new List<CompletionChoice>(n);
        for (int i = 0; i < n; i++)
        {
            text[i] = new StringBuilder(prefix);
            choices.Add(new CompletionChoice { Index = i, Logprobs = body.Logprobs is null ? null : new CompletionLogprobs() });
        }
        await foreach (ServingDelta d in call.ReadAllAsync(ctx.RequestAborted).ConfigureAwait(false))
        {
            if (d.Logprob is { } lp && choices[d.Choice].Logprobs is { } l) Add(l, engine, lp, text[d.Choice].Length);
            text[d.Choice].Append(d.Text);
            if (d.Finish is { } f) choices[d.Choice].FinishReason = RequestMapping.FinishReason(f);
        }
        ServingUsage u = await call.Usage.ConfigureAwait(false);
        for (int i = 0; i < n; i++) choices[i].Text = text[i].ToString();
        await Http.WriteJsonAsync(ctx, 200, new CompletionResponse { Id = id, Created = created, Model = engine.Id, Choices = choices, Usage = RequestMapping.Usage(u) }, info).ConfigureAwait(false);
    }

    private static void Add(CompletionLogprobs l, ServingEngine engine, ServingLogprob lp, int offset)
    {
        string Text(int token) => Encoding.UTF8.GetString(engine.Model.Tokenizer.TokenToPiece(token, renderSpecial: true));
        l.Tokens.Add(Text(lp.Token));
        l.TokenLogprobs.Add(RequestMapping.Finite(lp.Logprob));
        var top = new Dictionary<string, float>(StringComparer.Ordinal);
        foreach (var t in lp.Top) top.TryAdd(Text(t.Token), RequestMapping.Finite(t.Logprob));
        l.TopLogprobs.Add(top);
        l.TextOffset.Add(offset);
    }
}
