namespace Quanta.Cli.Tests;

public class ProgressTests
{
    [Fact]
    public void Plain_mode_prints_only_the_summary_for_a_quick_job()
    {
        var w = new StringWriter();
        var p = new Progress("loading x", w, interactive: false);
        Assert.False(p.Interactive);
        p.Report(0, "weights");
        p.Report(0.5, "tokenizer");
        p.Report(1, "ready");
        p.Done("done in 0.1 s");
        Assert.Equal("loading x: done in 0.1 s" + Environment.NewLine, w.ToString());
    }

    [Fact]
    public void Terminal_mode_redraws_one_line_and_clears_it()
    {
        var w = new StringWriter();
        var p = new Progress("convert", w, interactive: true);
        p.Report(0.5, "blk.0");
        string drawn = w.ToString();
        Assert.StartsWith("\rconvert [############------------]  50% blk.0", drawn);
        Assert.DoesNotContain("\n", drawn);
        p.Done("ok");
        string all = w.ToString();
        Assert.EndsWith("\r" + "convert: ok" + Environment.NewLine, all);
        p.Report(0.9, "after done");   // ignored
        Assert.Equal(all, w.ToString());
    }

    [Fact]
    public void Dispose_without_done_prints_nothing_more()
    {
        var w = new StringWriter();
        using (var p = new Progress("x", w, interactive: false)) p.Report(0.3);
        Assert.Equal("", w.ToString());
    }
}
