using System.Diagnostics;
using System.Globalization;

namespace Quanta.Cli;

/// <summary>
/// A small progress indicator for long CLI steps (loading, converting, quantizing), written to stderr so stdout keeps
/// only results. On a terminal it redraws one line in place ("label [######----]  60% stage"), at most ten times a
/// second; otherwise (stderr redirected to a file or pipe) it prints plain lines: after the first second, one when the stage
/// changes or another tenth of the work is done; and the summary at the end. Safe to call from several threads.
/// </summary>
public sealed class Progress : IDisposable
{
    private const int BarWidth = 24;
    private readonly string _label;
    private readonly TextWriter _out;
    private readonly Lock _lock = new();
    private readonly Stopwatch _clock = Stopwatch.StartNew();
    private long _lastDrawTicks = long.MinValue;
    private int _lastLength;
    private int _lastTenth = -1;
    private string? _lastStage;
    private bool _done;

    /// <summary>
    /// Creates an indicator labelled <paramref name="label"/> writing to <paramref name="output"/> (default stderr).
    /// <paramref name="interactive"/> forces the terminal (redrawn bar) or plain-line mode; by default the bar is drawn
    /// only when the output is the console's stderr and stderr is a terminal.
    /// </summary>
    public Progress(string label, TextWriter? output = null, bool? interactive = null)
    {
        _label = label ?? throw new ArgumentNullException(nameof(label));
        _out = output ?? Console.Error;
        Interactive = interactive ?? (output is null && !Console.IsErrorRedirected);
    }

    /// <summary>True when drawing a bar in place; false when printing plain lines.</summary>
    public bool Interactive { get; }

    /// <summary>Time since the indicator was created.</summary>
    public TimeSpan Elapsed => _clock.Elapsed;

    /// <summary>Reports overall progress <paramref name="fraction"/> (clamped to [0, 1]) and optionally the current stage.</summary>
    public void Report(double fraction, string? stage = null)
    {
        fraction = double.IsNaN(fraction) ? 0 : Math.Clamp(fraction, 0, 1);
        lock (_lock)
        {
            if (_done) return;
            bool stageChanged = stage is not null && stage != _lastStage;
            if (stage is not null) _lastStage = stage;
            if (Interactive)
            {
                long now = _clock.ElapsedTicks;
                if (!stageChanged && fraction < 1 && now - _lastDrawTicks < Stopwatch.Frequency / 10) return;
                _lastDrawTicks = now;
                int filled = (int)Math.Round(fraction * BarWidth);
                string line = string.Create(CultureInfo.InvariantCulture,
                    $"{_label} [{new string('#', filled)}{new string('-', BarWidth - filled)}] {fraction * 100,3:F0}% {_lastStage}");
                _out.Write("\r" + line.PadRight(_lastLength));
                _lastLength = line.Length;
                _out.Flush();
            }
            else
            {
                // Quick jobs print only the final summary: plain lines start once a second has passed.
                if (_clock.ElapsedTicks < Stopwatch.Frequency) return;
                int tenth = (int)(fraction * 10);
                if (!stageChanged && tenth <= _lastTenth) return;
                _lastTenth = Math.Max(_lastTenth, tenth);
                _out.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{_label}: {fraction * 100:F0}%{(_lastStage is null ? "" : " " + _lastStage)}"));
            }
        }
    }

    /// <summary>
    /// A log sink for library code that reports one line per item as "[ i/n] text" (the converters and quantizers):
    /// such lines move the bar to i/n with the text as the stage; any other line (a warning) is printed as it is.
    /// </summary>
    public Action<string> LineSink() => line =>
    {
        var m = System.Text.RegularExpressions.Regex.Match(line, @"^\[\s*(\d+)/(\d+)\]\s*(.*)$");
        if (m.Success && double.TryParse(m.Groups[2].Value, CultureInfo.InvariantCulture, out double n) && n > 0)
        {
            Report(double.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture) / n, m.Groups[3].Value.Trim());
            return;
        }
        lock (_lock)
        {
            Clear();
            _out.WriteLine(line);
            _lastDrawTicks = long.MinValue;
        }
    };

    /// <summary>Ends the indicator: clears the bar (terminal) and prints <paramref name="summary"/> as a line, if given.</summary>
    public void Done(string? summary = null)
    {
        lock (_lock)
        {
            if (_done) return;
            _done = true;
            Clear();
            if (summary is not null) _out.WriteLine($"{_label}: {summary}");
            _out.Flush();
        }
    }

    /// <summary>Clears a drawn bar if <see cref="Done"/> was not called (e.g. on an error), printing nothing else.</summary>
    public void Dispose()
    {
        lock (_lock)
        {
            if (_done) return;
            _done = true;
            Clear();
            _out.Flush();
        }
    }

    private void Clear()
    {
        if (Interactive && _lastLength > 0) _out.Write("\r" + new string(' ', _lastLength) + "\r");
        _lastLength = 0;
    }
}
