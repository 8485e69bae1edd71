using System.Text.Json;

namespace Quanta.Planner.Catalogs;

/// <summary>Reads the built-in catalog files (Catalog/*.json, embedded as resources) and user files of the same format.</summary>
internal static class CatalogJson
{
    public static readonly JsonSerializerOptions Options = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        PropertyNameCaseInsensitive = false,
        ReadCommentHandling = JsonCommentHandling.Skip,
        AllowTrailingCommas = true,
        WriteIndented = true,
    };

    /// <summary>Text of the built-in catalog file <paramref name="name"/> (e.g. "devices.json").</summary>
    public static string BuiltIn(string name)
    {
        using var stream = typeof(CatalogJson).Assembly.GetManifestResourceStream("Quanta.Planner.Catalog." + name)
            ?? throw new InvalidOperationException($"built-in catalog {name} missing from the assembly");
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd();
    }

    /// <summary>Deserializes <paramref name="json"/>; a malformed document raises InvalidDataException naming <paramref name="origin"/>.</summary>
    public static T Parse<T>(string json, string origin)
    {
        try
        {
            return JsonSerializer.Deserialize<T>(json, Options) ?? throw new InvalidDataException($"{origin}: empty catalog");
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"{origin}: not a valid catalog file: {e.Message}", e);
        }
    }

    /// <summary>Lower-case key with spaces, dashes, underscores and dots removed, for forgiving name lookups.</summary>
    public static string Key(string s)
    {
        var sb = new System.Text.StringBuilder(s.Length);
        foreach (char c in s)
            if (char.IsLetterOrDigit(c)) sb.Append(char.ToLowerInvariant(c));
        return sb.ToString();
    }
}
