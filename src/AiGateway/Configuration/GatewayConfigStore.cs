using System.Text.RegularExpressions;
using Microsoft.Extensions.Primitives;

namespace AiGateway.Configuration;

/// <summary>Thrown at start-up when the configuration is invalid; carries every error found.</summary>
public sealed class GatewayConfigException(IReadOnlyList<string> errors)
    : Exception("Invalid gateway configuration:" + Environment.NewLine + string.Join(Environment.NewLine, errors.Select(e => "  - " + e)))
{
    public IReadOnlyList<string> Errors { get; } = errors;
}

/// <summary>
/// Owns the current <see cref="GatewayConfig"/>. Loads it at start-up (failing fast with every error)
/// and again whenever the configuration changes: a valid change is swapped in atomically, an invalid
/// one is logged and rejected while the last good config keeps serving.
/// </summary>
internal sealed partial class GatewayConfigStore : IDisposable
{
    private readonly IConfiguration _configuration;
    private readonly ILogger<GatewayConfigStore> _logger;
    private readonly TimeProvider _time;
    private readonly IDisposable _subscription;
    private readonly Lock _reloadLock = new();
    private volatile GatewayConfig _current;
    private int _version;

    public GatewayConfigStore(IConfiguration configuration, ILogger<GatewayConfigStore> logger, TimeProvider time)
    {
        _configuration = configuration;
        _logger = logger;
        _time = time;
        var (config, errors) = Build();
        if (config is null)
        {
            throw new GatewayConfigException(errors);
        }
        _current = config;
        LoadedAt = time.GetUtcNow();
        LogCredentialProblems(config);
        _subscription = ChangeToken.OnChange(configuration.GetReloadToken, Reload);
    }

    /// <summary>The config every new request uses.</summary>
    public GatewayConfig Current => _current;

    public DateTimeOffset LoadedAt { get; private set; }

    /// <summary>Errors of the latest rejected reload, or empty when the latest change was applied.</summary>
    public IReadOnlyList<string> LastReloadErrors { get; private set; } = [];

    /// <summary>Raised after a new config has been swapped in.</summary>
    public event Action<GatewayConfig>? Changed;

    public void Dispose() => _subscription.Dispose();

    private void Reload()
    {
        lock (_reloadLock)
        {
            var (config, errors) = Build();
            if (config is null)
            {
                LastReloadErrors = errors;
                LogReloadRejected(errors.Count, string.Join("; ", errors), _current.Version);
                return;
            }

            LastReloadErrors = [];
            // Let listeners (the YARP config provider) see the new clusters before requests can route to them.
            Changed?.Invoke(config);
            _current = config;
            LoadedAt = _time.GetUtcNow();
            LogReloaded(config.Version, config.ModelList.Count, config.Clusters.Count);
            LogCredentialProblems(config);
        }
    }

    private (GatewayConfig? Config, List<string> Errors) Build()
    {
        var errors = new List<string>();
        foreach (var provider in ((IConfigurationRoot)_configuration).Providers.OfType<GatewayConfigFileProvider>())
        {
            if (!File.Exists(provider.FullPath))
            {
                errors.Add($"{provider.FullPath}: the file does not exist.");
            }
            else if (provider.LoadError is { } loadError)
            {
                errors.Add(loadError);
            }
        }
        if (errors.Count > 0) return (null, errors);

        GatewayOptions options;
        try
        {
            options = _configuration.GetSection(GatewayConfigFileSource.Section)
                .Get<GatewayOptions>(binder => binder.ErrorOnUnknownConfiguration = true) ?? new GatewayOptions();
        }
        catch (InvalidOperationException e)
        {
            // The binder wraps the useful message (which property, which path) in generic ones.
            Exception inner = e;
            while (inner.InnerException is not null) inner = inner.InnerException;
            errors.Add(ToJsonPaths(inner.Message));
            return (null, errors);
        }

        errors.AddRange(GatewayOptionsValidator.Validate(options));
        if (errors.Count > 0) return (null, errors);

        var version = Interlocked.Increment(ref _version);
        return (GatewayConfigCompiler.Compile(options, version, name => _configuration[name], _time), errors);
    }

    private void LogCredentialProblems(GatewayConfig config)
    {
        foreach (var cluster in config.Clusters.Values)
        {
            if (cluster.CredentialProblem is { } problem)
            {
                LogCredentialMissing(cluster.Id, problem);
            }
        }
    }

    /// <summary>Rewrites binder paths like <c>AiGateway:models:0:weight</c> into the file's <c>models[0].weight</c>.</summary>
    internal static string ToJsonPaths(string message) =>
        ConfigPathPattern().Replace(message, m =>
        {
            var segments = m.Value[(GatewayConfigFileSource.Section.Length + 1)..].Split(':');
            var path = new System.Text.StringBuilder();
            foreach (var segment in segments)
            {
                if (segment.All(char.IsAsciiDigit)) path.Append('[').Append(segment).Append(']');
                else path.Append(path.Length == 0 ? "" : ".").Append(segment);
            }
            return path.ToString();
        });

    [GeneratedRegex(@"AiGateway:[^'""\s]+", RegexOptions.IgnoreCase)]
    private static partial Regex ConfigPathPattern();

    [LoggerMessage(1, LogLevel.Information, "Gateway config v{Version} applied: {ModelCount} models, {ClusterCount} clusters.")]
    private partial void LogReloaded(int version, int modelCount, int clusterCount);

    [LoggerMessage(2, LogLevel.Error, "Gateway config change rejected ({ErrorCount} errors), still serving v{Version}: {Errors}")]
    private partial void LogReloadRejected(int errorCount, string errors, int version);

    [LoggerMessage(3, LogLevel.Warning, "Cluster '{Cluster}' has no usable provider credential ({Problem}); requests routed to it fail with 503 until it is set.")]
    private partial void LogCredentialMissing(string cluster, string problem);
}
