using System.Text.Json;
using Microsoft.Extensions.Configuration.Json;
using Microsoft.Extensions.FileProviders;

namespace AiGateway.Configuration;

/// <summary>
/// Loads the gateway's JSON file into the <c>AiGateway</c> configuration section, so the file stays
/// flat while <c>AiGateway__…</c> environment variables can still override any value. A reload that
/// cannot be parsed keeps the previous values and records the error for <see cref="GatewayConfigStore"/>.
/// </summary>
internal sealed class GatewayConfigFileSource : JsonConfigurationSource
{
    public const string Section = "AiGateway";

    public string FullPath { get; init; } = "";

    public override IConfigurationProvider Build(IConfigurationBuilder builder)
    {
        EnsureDefaults(builder);
        return new GatewayConfigFileProvider(this);
    }

    public static GatewayConfigFileSource Create(string fullPath, bool poll)
    {
        var directory = System.IO.Path.GetDirectoryName(fullPath)!;
        var provider = new PhysicalFileProvider(directory)
        {
            // Kubernetes swaps ConfigMap files through symlinks that inotify does not report; polling sees them.
            UsePollingFileWatcher = poll,
            UseActivePolling = poll,
        };
        return new GatewayConfigFileSource
        {
            FullPath = fullPath,
            FileProvider = provider,
            Path = System.IO.Path.GetFileName(fullPath),
            Optional = false,
            ReloadOnChange = true,
            ReloadDelay = 300,
        };
    }
}

internal sealed class GatewayConfigFileProvider(GatewayConfigFileSource source) : JsonConfigurationProvider(source)
{
    /// <summary>The parse error of the latest load attempt, or <c>null</c> when it parsed.</summary>
    public string? LoadError { get; private set; }

    public string FullPath => source.FullPath;

    public override void Load(Stream stream)
    {
        Dictionary<string, string?> parsed;
        try
        {
            // Parse ourselves first: the base provider's message hides the line and position.
            using (var document = JsonDocument.Parse(stream, new JsonDocumentOptions { CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true }))
            {
                if (document.RootElement.ValueKind != JsonValueKind.Object)
                {
                    throw new FormatException("the top level must be a JSON object");
                }
            }
            stream.Position = 0;
            base.Load(stream);
            parsed = new Dictionary<string, string?>(StringComparer.OrdinalIgnoreCase);
            foreach (var (key, value) in Data)
            {
                if (key.Equals("$schema", StringComparison.Ordinal)) continue;
                parsed[GatewayConfigFileSource.Section + ConfigurationPath.KeyDelimiter + key] = value;
            }
        }
        catch (Exception e) when (e is JsonException or FormatException)
        {
            LoadError = e is JsonException json && json.LineNumber is { } line
                ? $"{source.FullPath}: invalid JSON at line {line + 1}, position {json.BytePositionInLine + 1}"
                : $"{source.FullPath}: {e.Message}";
            if (!HasLoaded)
            {
                // First load: nothing good to keep, so start-up fails with this message.
                HasLoaded = true;
                Data = new Dictionary<string, string?>(StringComparer.OrdinalIgnoreCase);
            }
            else
            {
                Data = _lastGood;
            }
            return;
        }

        LoadError = null;
        HasLoaded = true;
        Data = parsed;
        _lastGood = parsed;
    }

    private Dictionary<string, string?> _lastGood = new(StringComparer.OrdinalIgnoreCase);

    private bool HasLoaded { get; set; }
}
