using System.Text.Json;
using System.Text.Json.Serialization;

namespace Quanta.Planner.Performance;

/// <summary>
/// CPU-twin runs as the fit reads them (<see cref="CpuTwinObservation"/>: the model, the machine figures and every
/// bracket's readings, the workloads, the measured values, the recorded serve steps), saved to JSON so runs made at
/// different times — in different bandwidth states of the machine — can be predicted and fitted together later
/// (`quanta plan twin --observations-out` / `--fit-from`).
/// </summary>
public static class CpuTwinObservationFile
{
    // property names as in the records (they are the constructors' parameters); NaN allowed (a wave's first step has no
    // gap); a missing constructor parameter or a null where the records allow none is a JsonException (so a clear
    // InvalidDataException below), not a run that fails later with a null reference
    private static readonly JsonSerializerOptions Options = new()
    {
        WriteIndented = true,
        RespectNullableAnnotations = true,
        RespectRequiredConstructorParameters = true,
        NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
        Converters = { new JsonStringEnumConverter() },
    };

    /// <summary>The format tag written with the runs.</summary>
    public const string Format = "quanta-twin-observations/1";

    private sealed record Document(string Format, IReadOnlyList<CpuTwinObservation> Runs);

    /// <summary>The runs as a JSON document.</summary>
    public static string ToJson(IEnumerable<CpuTwinObservation> runs)
    {
        ArgumentNullException.ThrowIfNull(runs);
        return JsonSerializer.Serialize(new Document(Format, runs.ToList()), Options);
    }

    /// <summary>Reads runs written by <see cref="ToJson"/>; <paramref name="origin"/> names the source in errors.</summary>
    /// <exception cref="InvalidDataException">Not such a document, or a run's machine figures are invalid.</exception>
    public static IReadOnlyList<CpuTwinObservation> FromJson(string json, string origin)
    {
        ArgumentNullException.ThrowIfNull(json);
        Document? doc;
        try { doc = JsonSerializer.Deserialize<Document>(json, Options); }
        catch (JsonException e) { throw new InvalidDataException($"{origin}: not a twin observations file ({e.Message})", e); }
        if (doc is null || doc.Format != Format || doc.Runs is null) throw new InvalidDataException($"{origin}: not a {Format} document");
        foreach (var r in doc.Runs)
        {
            try
            {
                r.Machine.Validate();
                r.ServeMachine?.Validate();
            }
            catch (ArgumentException e) { throw new InvalidDataException($"{origin}: {r.Name}: {e.Message}", e); }
        }
        return doc.Runs;
    }

    /// <summary>Reads the runs of the file at <paramref name="path"/>.</summary>
    public static IReadOnlyList<CpuTwinObservation> Load(string path) =>
        File.Exists(path) ? FromJson(File.ReadAllText(path), path) : throw new FileNotFoundException($"observations file not found: {path}", path);
}
