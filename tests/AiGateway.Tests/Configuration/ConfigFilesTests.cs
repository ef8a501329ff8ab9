using System.Text.Json;
using AiGateway.Configuration;
using Json.Schema;
using Microsoft.Extensions.Configuration;

namespace AiGateway.Tests.Configuration;

/// <summary>Every file shipped in config/ is valid against the schema and loads through the gateway's own validation.</summary>
public class ConfigFilesTests
{
    private static readonly string ConfigDirectory = Path.Combine(AppContext.BaseDirectory, "config");

    // Loaded once, also for the Helm chart tests: the schema registry refuses a second registration of the same $id.
    internal static readonly Lazy<JsonSchema> Schema = new(() => JsonSchema.FromFile(Path.Combine(ConfigDirectory, "gateway.schema.json")));

    public static TheoryData<string> ConfigFiles()
    {
        var data = new TheoryData<string>();
        foreach (var file in Directory.GetFiles(ConfigDirectory, "*.json").Where(f => !f.EndsWith(".schema.json", StringComparison.Ordinal)).Order())
        {
            data.Add(Path.GetFileName(file));
        }
        return data;
    }

    [Theory]
    [MemberData(nameof(ConfigFiles))]
    public void ConfigFile_MatchesJsonSchema(string file)
    {
        var schema = Schema.Value;
        using var instance = JsonDocument.Parse(File.ReadAllText(Path.Combine(ConfigDirectory, file)));

        var result = schema.Evaluate(instance.RootElement, new EvaluationOptions { OutputFormat = OutputFormat.List });

        Assert.True(result.IsValid, string.Join("; ", (result.Details ?? []).Where(d => d.Errors is not null).SelectMany(d => d.Errors!.Select(e => $"{d.InstanceLocation}: {e.Value}"))));
    }

    [Theory]
    [MemberData(nameof(ConfigFiles))]
    public void ConfigFile_PassesGatewayValidation(string file)
    {
        var configuration = new ConfigurationBuilder().Add(GatewayConfigFileSource.Create(Path.Combine(ConfigDirectory, file), poll: false)).Build();
        var options = configuration.GetSection(GatewayConfigFileSource.Section).Get<GatewayOptions>(b => b.ErrorOnUnknownConfiguration = true)!;

        Assert.Empty(GatewayOptionsValidator.Validate(options));
    }

    [Fact]
    public void Schema_RejectsLiteralApiKeyAndUnknownProperties()
    {
        var schema = Schema.Value;
        using var literal = JsonDocument.Parse("""{"clusters":{"c":{"provider":"openai","apiKey":"sk-123"}},"models":[{"name":"m","deployments":[{"cluster":"c"}]}]}""");
        using var typo = JsonDocument.Parse("""{"clusters":{"c":{"provider":"mock"}},"models":[{"name":"m","deployments":[{"cluster":"c","weigth":1}]}]}""");

        Assert.False(schema.Evaluate(literal.RootElement).IsValid);
        Assert.False(schema.Evaluate(typo.RootElement).IsValid);
    }
}
