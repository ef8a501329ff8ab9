using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using AiGateway.Configuration;
using AiGateway.Hosting;
using AiGateway.Tests.Configuration;
using Json.Schema;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Configuration;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace AiGateway.Tests.Packaging;

/// <summary>
/// The Helm chart without a helm binary: its embedded gateway config is valid for the gateway, its
/// templates are well-formed, every value they use exists, and it agrees with the Dockerfile on port,
/// config path and probe endpoints.
/// </summary>
public partial class HelmChartTests
{
    private static readonly string ChartDirectory = Path.Combine(AppContext.BaseDirectory, "charts", "aigateway");
    private static readonly string TemplatesDirectory = Path.Combine(ChartDirectory, "templates");

    private static readonly Lazy<YamlMappingNode> Values = new(() => LoadYaml(Path.Combine(ChartDirectory, "values.yaml")).Single());

    public static TheoryData<string> TemplateFiles() => Files(TemplatesDirectory, "*");

    public static TheoryData<string> ManifestTemplates() => Files(TemplatesDirectory, "*.yaml");

    [Fact]
    public void Chart_Metadata_IsApiV2WithAppVersion()
    {
        var chart = LoadYaml(Path.Combine(ChartDirectory, "Chart.yaml")).Single();

        Assert.Equal("v2", Scalar(chart, "apiVersion"));
        Assert.Equal("aigateway", Scalar(chart, "name"));
        Assert.Equal("application", Scalar(chart, "type"));
        Assert.Matches(@"^\d+\.\d+\.\d+", Scalar(chart, "version"));
        Assert.Matches(@"^\d+\.\d+\.\d+", Scalar(chart, "appVersion"));
    }

    [Fact]
    public void ValuesGatewayConfig_AgainstJsonSchema_IsValid()
    {
        using var document = JsonDocument.Parse(GatewayConfigJson());

        var result = ConfigFilesTests.Schema.Value.Evaluate(document.RootElement, new EvaluationOptions { OutputFormat = OutputFormat.List });

        Assert.True(result.IsValid, string.Join("; ", (result.Details ?? []).Where(d => d.Errors is not null).SelectMany(d => d.Errors!.Select(e => $"{d.InstanceLocation}: {e.Value}"))));
    }

    [Fact]
    public void ValuesGatewayConfig_GatewayValidation_HasNoErrors()
    {
        using var file = new TempConfigFile(GatewayConfigJson());
        var configuration = new ConfigurationBuilder().Add(GatewayConfigFileSource.Create(file.Path, poll: false)).Build();
        var options = configuration.GetSection(GatewayConfigFileSource.Section).Get<GatewayOptions>(b => b.ErrorOnUnknownConfiguration = true)!;

        Assert.Empty(GatewayOptionsValidator.Validate(options));
    }

    [Fact]
    public async Task ValuesGatewayConfig_BuildsGateway_ServingEveryProbePath()
    {
        using var file = new TempConfigFile(GatewayConfigJson());

        // Build compiles the config exactly as a pod would at start-up; nothing listens.
        var app = GatewayApp.Build([$"--AIGATEWAY_CONFIG={file.Path}", "--urls=http://127.0.0.1:0", "--Logging:LogLevel:Default=None"]);
        try
        {
            var routes = ((IEndpointRouteBuilder)app).DataSources
                .SelectMany(source => source.Endpoints)
                .OfType<RouteEndpoint>()
                .Select(endpoint => endpoint.RoutePattern.RawText)
                .ToHashSet(StringComparer.Ordinal);

            foreach (var probe in new[] { "startup", "liveness", "readiness" })
            {
                var path = Scalar(Values.Value, $"probes.{probe}.path");
                Assert.True(routes.Contains(path), $"probes.{probe}.path {path} is not an endpoint of the gateway.");
            }
        }
        finally
        {
            await app.DisposeAsync();
        }
    }

    [Fact]
    public void Values_Probes_LivenessHasNoDependenciesAndReadinessWaitsForRedis()
    {
        // /healthz never fails because of Redis (a Redis outage must not restart every pod); /readyz does.
        Assert.Equal("/healthz", Scalar(Values.Value, "probes.liveness.path"));
        Assert.Equal("/healthz", Scalar(Values.Value, "probes.startup.path"));
        Assert.Equal("/readyz", Scalar(Values.Value, "probes.readiness.path"));
    }

    [Theory]
    [MemberData(nameof(TemplateFiles))]
    public void Template_Actions_AreClosedAndBalanced(string file)
    {
        var text = File.ReadAllText(Path.Combine(TemplatesDirectory, file));

        Assert.Equal(Regex.Count(text, @"\{\{"), Regex.Count(text, @"\}\}"));
        Assert.Empty(Regex.Matches(text, @"\{\{(?:(?!\}\}).)*\{\{", RegexOptions.Singleline));

        var open = new Stack<string>();
        foreach (var action in Actions(text))
        {
            var keyword = action.Split(' ', 2)[0];
            switch (keyword)
            {
                case "if" or "with" or "range" or "define" or "block":
                    open.Push(keyword);
                    break;
                case "else":
                    Assert.True(open.TryPeek(out var block) && block is "if" or "with" or "range", $"{file}: 'else' outside if/with/range");
                    break;
                case "end":
                    Assert.True(open.TryPop(out _), $"{file}: 'end' without an open block");
                    break;
            }
        }
        Assert.True(open.Count == 0, $"{file}: unclosed {string.Join(", ", open)}");
    }

    [Theory]
    [MemberData(nameof(ManifestTemplates))]
    public void Template_WithActionsStripped_IsKubernetesYaml(string file)
    {
        var documents = LoadYamlText(StripActions(File.ReadAllText(Path.Combine(TemplatesDirectory, file))));

        var manifest = Assert.Single(documents);
        Assert.False(string.IsNullOrEmpty(Scalar(manifest, "apiVersion")), $"{file}: no apiVersion");
        Assert.False(string.IsNullOrEmpty(Scalar(manifest, "kind")), $"{file}: no kind");
        Assert.NotNull(Node(manifest, "metadata.name"));
    }

    [Theory]
    [MemberData(nameof(TemplateFiles))]
    public void Template_ValuesReferences_ExistInValuesYaml(string file)
    {
        var text = File.ReadAllText(Path.Combine(TemplatesDirectory, file));

        var missing = ValuesReference().Matches(text).Select(m => m.Groups[1].Value).Distinct()
            .Where(path => Node(Values.Value, path) is null)
            .ToList();

        Assert.True(missing.Count == 0, $"{file} uses values that values.yaml does not define: {string.Join(", ", missing)}");
    }

    [Fact]
    public void Dockerfile_PortAndConfigPath_MatchChart()
    {
        var dockerfile = Dockerfile();
        var deployment = LoadYamlText(StripActions(File.ReadAllText(Path.Combine(TemplatesDirectory, "deployment.yaml")))).Single();
        var container = (YamlMappingNode)((YamlSequenceNode)Node(deployment, "spec.template.spec.containers")!).Children.Single();
        var env = ((YamlSequenceNode)Node(container, "env")!).Children.Cast<YamlMappingNode>()
            .ToDictionary(e => Scalar(e, "name"), e => Node(e, "value") is YamlScalarNode value ? value.Value : null);
        var configMount = ((YamlSequenceNode)Node(container, "volumeMounts")!).Children.Cast<YamlMappingNode>().Single(m => Scalar(m, "name") == "config");
        var configMap = LoadYamlText(StripActions(File.ReadAllText(Path.Combine(TemplatesDirectory, "configmap.yaml")))).Single();

        var exposed = Assert.Single(dockerfile.Expose);
        Assert.Equal(exposed, Scalar(Values.Value, "containerPort"));
        Assert.Equal($"http://+:{exposed}", dockerfile.Env["ASPNETCORE_URLS"]);

        var configPath = dockerfile.Env["AIGATEWAY_CONFIG"];
        Assert.Equal(configPath, env["AIGATEWAY_CONFIG"]);
        Assert.Equal(Path.GetDirectoryName(configPath), Scalar(configMount, "mountPath"));
        Assert.Null(Node(configMount, "subPath")); // a subPath mount never sees ConfigMap updates
        Assert.NotNull(Node(configMap, "data." + Path.GetFileName(configPath).Replace(".", "\\.", StringComparison.Ordinal)));
        Assert.Equal("true", env["AIGATEWAY_CONFIG_POLL"]);
    }

    [Fact]
    public void IngressBodySize_AtLeastGatewayRequestLimit()
    {
        var annotation = Scalar(Values.Value, "ingress.annotations.nginx\\.ingress\\.kubernetes\\.io/proxy-body-size");
        var match = Regex.Match(annotation, "^([0-9]+)([kKmMgG]?)$");
        Assert.True(match.Success, $"proxy-body-size {annotation} is not an nginx size");
        var bytes = long.Parse(match.Groups[1].Value, CultureInfo.InvariantCulture) * (match.Groups[2].Value.ToLowerInvariant() switch
        {
            "k" => 1024L,
            "m" => 1024L * 1024,
            "g" => 1024L * 1024 * 1024,
            _ => 1L,
        });

        Assert.True(bytes >= long.Parse(Scalar(Values.Value, "config.gateway.limits.maxRequestBodyBytes"), CultureInfo.InvariantCulture));
    }

    /// <summary>The values' gateway config as the chart renders it into the ConfigMap (toPrettyJson).</summary>
    private static string GatewayConfigJson() =>
        ToJson(Node(Values.Value, "config.gateway") ?? throw new InvalidOperationException("values.yaml has no config.gateway"))!.ToJsonString();

    /// <summary>
    /// YAML to JSON the way Helm reads values (YAML 1.1 scalars: yes/no/on/off are booleans), so a value
    /// that Helm would turn into the wrong type fails the gateway's validation here too.
    /// </summary>
    private static JsonNode? ToJson(YamlNode node) => node switch
    {
        YamlMappingNode mapping => new JsonObject(mapping.Children.Select(c => KeyValuePair.Create(((YamlScalarNode)c.Key).Value!, ToJson(c.Value)))),
        YamlSequenceNode sequence => new JsonArray(sequence.Children.Select(ToJson).ToArray()),
        YamlScalarNode { Style: not ScalarStyle.Plain } scalar => JsonValue.Create(scalar.Value),
        YamlScalarNode scalar => PlainScalar(scalar.Value ?? ""),
        _ => throw new InvalidOperationException($"unsupported YAML node {node.NodeType}"),
    };

    private static JsonNode? PlainScalar(string value)
    {
        if (value is "" or "~" or "null" or "Null" or "NULL") return null;
        if (value is "true" or "True" or "TRUE" or "yes" or "Yes" or "YES" or "on" or "On" or "ON" or "y" or "Y") return JsonValue.Create(true);
        if (value is "false" or "False" or "FALSE" or "no" or "No" or "NO" or "off" or "Off" or "OFF" or "n" or "N") return JsonValue.Create(false);
        if (long.TryParse(value, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var integer)) return JsonValue.Create(integer);
        if (double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out var number)) return JsonValue.Create(number);
        return JsonValue.Create(value);
    }

    /// <summary>The contents of every <c>{{ … }}</c> action, trim markers and spaces removed; comments skipped.</summary>
    private static IEnumerable<string> Actions(string text) =>
        Regex.Matches(text, @"\{\{-?\s*(.*?)\s*-?\}\}", RegexOptions.Singleline)
            .Select(m => m.Groups[1].Value)
            .Where(action => !action.StartsWith("/*", StringComparison.Ordinal));

    /// <summary>Drops lines that hold only template actions and replaces inline actions by a plain scalar.</summary>
    private static string StripActions(string text)
    {
        var lines = text.ReplaceLineEndings("\n").Split('\n')
            .Where(line => !Regex.IsMatch(line, @"^\s*(\{\{.*?\}\}\s*)+$"))
            .Select(line => Regex.Replace(line, @"\{\{.*?\}\}", "x"));
        return string.Join('\n', lines);
    }

    /// <summary>A dotted path; a key containing dots is written with <c>\.</c>.</summary>
    private static YamlNode? Node(YamlNode root, string path)
    {
        var node = root;
        foreach (var key in Regex.Split(path, @"(?<!\\)\.").Select(k => k.Replace("\\.", ".", StringComparison.Ordinal)))
        {
            if (node is not YamlMappingNode mapping || !mapping.Children.TryGetValue(new YamlScalarNode(key), out var child)) return null;
            node = child;
        }
        return node;
    }

    private static string Scalar(YamlNode root, string path) =>
        (Node(root, path) as YamlScalarNode)?.Value ?? throw new InvalidOperationException($"{path} is not a scalar");

    private static List<YamlMappingNode> LoadYaml(string path) => LoadYamlText(File.ReadAllText(path));

    private static List<YamlMappingNode> LoadYamlText(string text)
    {
        var stream = new YamlStream();
        stream.Load(new StringReader(text));
        return stream.Documents.Select(d => (YamlMappingNode)d.RootNode).ToList();
    }

    private static TheoryData<string> Files(string directory, string pattern)
    {
        var data = new TheoryData<string>();
        foreach (var file in Directory.GetFiles(directory, pattern).Order(StringComparer.Ordinal))
        {
            data.Add(Path.GetFileName(file));
        }
        return data;
    }

    /// <summary>EXPOSE and ENV of the final stage, line continuations joined.</summary>
    private static (List<string> Expose, Dictionary<string, string> Env) Dockerfile()
    {
        var text = Regex.Replace(File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "Dockerfile")), @"\\\r?\n", " ");
        var lines = text.ReplaceLineEndings("\n").Split('\n').Select(l => l.Trim()).Where(l => l.Length > 0 && !l.StartsWith('#')).ToList();
        var final = lines.FindLastIndex(l => l.StartsWith("FROM ", StringComparison.OrdinalIgnoreCase));
        var expose = new List<string>();
        var env = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var line in lines.Skip(final))
        {
            if (line.StartsWith("EXPOSE ", StringComparison.OrdinalIgnoreCase))
            {
                expose.AddRange(line[7..].Split(' ', StringSplitOptions.RemoveEmptyEntries).Select(p => p.Split('/')[0]));
            }
            else if (line.StartsWith("ENV ", StringComparison.OrdinalIgnoreCase))
            {
                foreach (Match pair in Regex.Matches(line[4..], @"([A-Za-z_][A-Za-z0-9_]*)=(\S*)"))
                {
                    env[pair.Groups[1].Value] = pair.Groups[2].Value;
                }
            }
        }
        return (expose, env);
    }

    [GeneratedRegex(@"\.Values\.([A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*)")]
    private static partial Regex ValuesReference();

    private sealed class TempConfigFile : IDisposable
    {
        private readonly string _directory = Directory.CreateTempSubdirectory("aigw-chart-").FullName;

        public TempConfigFile(string json)
        {
            Path = System.IO.Path.Combine(_directory, "gateway.json");
            File.WriteAllText(Path, json);
        }

        public string Path { get; }

        public void Dispose() => Directory.Delete(_directory, recursive: true);
    }
}
