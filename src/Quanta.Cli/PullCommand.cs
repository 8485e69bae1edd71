using System.CommandLine;
using System.Globalization;
using Quanta.Engine.Download;

namespace Quanta.Cli;

/// <summary>
/// `quanta pull URL [--out DIR] [--sha256 HEX]`: downloads a model file from a Hugging Face-style URL
/// (https://host/ORG/REPO/resolve/main/FILE.gguf) into DIR (default: the current folder), resuming an earlier interrupted
/// download from DIR/FILE.part and checking the SHA-256 (--sha256, else the server's X-Linked-ETag / ETag when it is one).
/// stdout gets only the downloaded file's path; progress (bytes/total, MB/s) goes to stderr. HF_TOKEN, when set, is sent as a
/// bearer token to the URL's host (gated or private repositories).
/// </summary>
internal static class PullCommand
{
    public static Command Create()
    {
        var url = new Argument<string>("url") { Description = "file URL, e.g. https://huggingface.co/ORG/REPO/resolve/main/FILE.gguf" };
        var outDir = new Option<string>("--out", "-o") { Description = "folder to save into (default: the current folder)", DefaultValueFactory = _ => "." };
        var sha = new Option<string?>("--sha256") { Description = "expected SHA-256 of the file (64 hex digits); default: the server's, when it sends one" };
        var verbose = new Option<bool>("--verbose") { Description = "show stack traces on errors" };
        var cmd = new Command("pull", "Download a model file (resumable, checksum-verified); prints its path.") { url, outDir, sha, verbose };
        cmd.SetAction(p => CliRunner.Run(p.GetValue(verbose), () =>
        {
            string text = p.GetValue(url)!;
            if (!Uri.TryCreate(text, UriKind.Absolute, out Uri? uri)) throw new ArgumentException($"not a URL: {text}");
            string name = ModelDownloader.FileNameFromUrl(uri);
            string? token = Environment.GetEnvironmentVariable("HF_TOKEN");
            using var handler = new SocketsHttpHandler { AllowAutoRedirect = false, ConnectTimeout = TimeSpan.FromSeconds(30) };
            using var http = new HttpClient(handler) { Timeout = Timeout.InfiniteTimeSpan };
            http.DefaultRequestHeaders.UserAgent.ParseAdd("quanta/1.0");
            using var progress = new Progress("pull " + name);
            DownloadResult r = ModelDownloader.DownloadAsync(http, uri, p.GetValue(outDir) ?? ".", string.IsNullOrWhiteSpace(p.GetValue(sha)) ? null : p.GetValue(sha)!.Trim(),
                string.IsNullOrEmpty(token) ? null : token, new ReportTo(progress)).GetAwaiter().GetResult();
            string check = r.ChecksumSource is null ? "(not verified: no checksum given or sent)" : $"verified ({r.ChecksumSource})";
            progress.Done(string.Create(CultureInfo.InvariantCulture,
                $"{Mb(r.Bytes)} MB{(r.Resumed ? " (resumed)" : "")} in {progress.Elapsed.TotalSeconds:F1} s, sha256 {r.Sha256} {check}"));
            Console.Out.WriteLine(Path.GetFullPath(r.Path));
            return 0;
        }));
        return cmd;
    }

    private static string Mb(long bytes) => (bytes / 1e6).ToString("F1", CultureInfo.InvariantCulture);

    private sealed class ReportTo(Progress progress) : IProgress<DownloadProgress>
    {
        public void Report(DownloadProgress v) => progress.Report(v.Total is > 0 ? (double)v.Received / v.Total.Value : 0, string.Create(CultureInfo.InvariantCulture,
            $"{Mb(v.Received)}/{(v.Total is null ? "?" : Mb(v.Total.Value))} MB, {v.BytesPerSecond / 1e6:F1} MB/s"));
    }
}
