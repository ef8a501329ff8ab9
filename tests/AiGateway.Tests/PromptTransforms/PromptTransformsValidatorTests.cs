using System.Text.Json;
using AiGateway.Configuration;
using AiGateway.PromptTransforms;
using AiGateway.Tests.Configuration;
using Json.Schema;
using Microsoft.Extensions.Configuration;

namespace AiGateway.Tests.PromptTransforms;

public class PromptTransformsValidatorTests
{
    private static GatewayOptions Options(PromptTransformOptions transforms, params string[] aliases) => new()
    {
        Clusters = new() { ["mock"] = new ClusterOptions { Provider = "mock" } },
        Models =
        [
            new ModelOptions { Name = "a", Aliases = [.. aliases], Deployments = [new DeploymentOptions { Cluster = "mock" }], PromptTransforms = transforms },
            new ModelOptions { Name = "b", Deployments = [new DeploymentOptions { Cluster = "mock" }] },
        ],
    };

    private static PromptTransformOptions Template(string name, string content) =>
        new() { Templates = [new PromptTemplateOptions { Name = name, Messages = [new TemplateMessageOptions { Content = content }] }] };

    [Theory]
    [InlineData("Hello {{name", "models[0].promptTransforms.templates[0].messages[0].content: '{{' at position 6 is not closed")]
    [InlineData("Hello name}}", "models[0].promptTransforms.templates[0].messages[0].content: '}}' at position 10 closes no '{{'")]
    [InlineData("Hello {{first name}}", "models[0].promptTransforms.templates[0].messages[0].content: '{{first name}}' at position 6 is not a variable")]
    [InlineData("Hello {{}}", "models[0].promptTransforms.templates[0].messages[0].content: '{{}}' at position 6 is not a variable")]
    public void Validate_BadTemplateSyntax_ErrorWithPath(string content, string expected)
    {
        var errors = GatewayOptionsValidator.Validate(Options(Template("t", content)));

        Assert.Contains(errors, e => e.StartsWith(expected, StringComparison.Ordinal));
    }

    [Fact]
    public void Validate_DuplicateTemplateNames_Error()
    {
        var transforms = new PromptTransformOptions
        {
            Templates =
            [
                new PromptTemplateOptions { Name = "t", Messages = [new TemplateMessageOptions { Content = "x" }] },
                new PromptTemplateOptions { Name = "t", Messages = [new TemplateMessageOptions { Role = "robot", Content = "y" }] },
            ],
        };

        var errors = GatewayOptionsValidator.Validate(Options(transforms));

        Assert.Contains("models[0].promptTransforms.templates[1].name: 't' is defined more than once.", errors);
        Assert.Contains(errors, e => e.StartsWith("models[0].promptTransforms.templates[1].messages[0].role: 'robot'", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("(unclosed")]
    [InlineData(@"(a)\1")]
    [InlineData("(?=look)ahead")]
    public void Validate_BadRegexes_ErrorsWithPath(string pattern)
    {
        var transforms = new PromptTransformOptions
        {
            Redaction = new RedactionOptions { Custom = [new NamedPatternOptions { Name = "c", Pattern = pattern }] },
            Guardrails = new GuardrailOptions { Rules = [new GuardrailRuleOptions { Name = "r", Pattern = pattern }] },
        };

        var errors = GatewayOptionsValidator.Validate(Options(transforms));

        Assert.Contains(errors, e => e.StartsWith("models[0].promptTransforms.redaction.custom[0].pattern: is not a usable regular expression", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.StartsWith("models[0].promptTransforms.guardrails.rules[0].pattern: is not a usable regular expression", StringComparison.Ordinal));
    }

    [Fact]
    public void Validate_BadSettings_EveryErrorListed()
    {
        var transforms = new PromptTransformOptions
        {
            SystemPrompt = new SystemPromptOptions { Mode = "insert", Text = "" },
            Parameters = new ParameterPolicyOptions { Overrides = new() { ["model"] = "x" } },
            Redaction = new RedactionOptions { Mode = "hide", Detectors = ["ssn"], Custom = [new NamedPatternOptions { Name = "email", Pattern = "x" }] },
            Guardrails = new GuardrailOptions { MaxPromptChars = 0, Rules = [new GuardrailRuleOptions { Name = "empty" }] },
        };
        var options = Options(new PromptTransformOptions()) with { PromptTransforms = transforms };

        var errors = GatewayOptionsValidator.Validate(options);

        Assert.Equal(
            [
                "promptTransforms.systemPrompt.mode: 'insert' is not one of prepend, append, replace.",
                "promptTransforms.systemPrompt.text: must not be empty.",
                "promptTransforms.parameters: 'model' is set by the gateway and cannot be configured.",
                "promptTransforms.redaction.mode: 'hide' is not one of mask, reject.",
                "promptTransforms.redaction.detectors[0]: 'ssn' is not one of email, phone, credit_card, iban, ip_address, api_key, aws_key, private_key, jwt.".Replace("email, phone, credit_card, iban, ip_address, api_key, aws_key, private_key, jwt", string.Join(", ", PiiDetectors.Names), StringComparison.Ordinal),
                "promptTransforms.redaction.custom[0].name: 'email' is already used by another detector.",
                "promptTransforms.guardrails.maxPromptChars: must be positive.",
                "promptTransforms.guardrails.rules[0]: a rule needs keywords, a pattern, or both.",
            ],
            errors);
    }

    [Fact]
    public void Validate_AliasClashes_Errors()
    {
        var errors = GatewayOptionsValidator.Validate(Options(new PromptTransformOptions(), "fast", "b", "fast"));

        Assert.Equal(["models[0].aliases[1]: 'b' is already the name of a model.", "models[0].aliases[2]: 'fast' is used by more than one model."], errors);
    }

    private const string FullConfig = """
        {
          "clusters": { "mock": { "provider": "mock" } },
          "promptTransforms": { "guardrails": { "maxPromptChars": 100000 } },
          "auth": {
            "keys": [ { "name": "k", "sha256": "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", "team": "t",
                        "promptTransforms": { "parameters": { "deny": [ "logprobs" ] } } } ],
            "teams": { "t": { "promptTransforms": { "systemPrompt": { "mode": "append", "text": "Team t." } } } }
          },
          "models": [ {
            "name": "echo", "aliases": [ "fast" ],
            "deployments": [ { "cluster": "mock" } ],
            "promptTransforms": {
              "systemPrompt": { "mode": "prepend", "text": "You are the Contoso assistant." },
              "templates": [ { "name": "translate", "messages": [ { "role": "system", "content": "Translate into {{language}}." }, { "content": "{{text}}" } ] } ],
              "parameters": { "defaults": { "temperature": 0.3, "user": "gw" }, "overrides": { "n": 1 }, "max": { "max_tokens": 1024 }, "deny": [ "logprobs" ] },
              "redaction": { "mode": "mask", "detectors": [ "email", "jwt" ], "restoreInResponse": true, "custom": [ { "name": "employee_id", "pattern": "\\bEMP-[0-9]{6}\\b" } ] },
              "guardrails": { "maxPromptChars": 200000, "rules": [ { "name": "project-names", "keywords": [ "Project Falcon" ], "pattern": "falcon\\s+launch", "checkOutput": true } ] }
            }
          } ]
        }
        """;

    [Fact]
    public void FullExample_MatchesSchemaBindsStrictlyAndValidates()
    {
        using var document = JsonDocument.Parse(FullConfig);
        var result = ConfigFilesTests.Schema.Value.Evaluate(document.RootElement, new EvaluationOptions { OutputFormat = OutputFormat.List });
        Assert.True(result.IsValid, string.Join("; ", (result.Details ?? []).Where(d => d.Errors is not null).SelectMany(d => d.Errors!.Select(e => $"{d.InstanceLocation}: {e.Value}"))));

        var file = Path.Combine(Directory.CreateTempSubdirectory("aigw-pt-").FullName, "gateway.json");
        File.WriteAllText(file, FullConfig);
        var configuration = new ConfigurationBuilder().Add(GatewayConfigFileSource.Create(file, poll: false)).Build();
        var options = configuration.GetSection(GatewayConfigFileSource.Section).Get<GatewayOptions>(b => b.ErrorOnUnknownConfiguration = true)!;

        Assert.Empty(GatewayOptionsValidator.Validate(options));
        var policy = GatewayConfigCompiler.Compile(options, 1, _ => null).Models["fast"].PromptTransforms!;
        Assert.Equal(["employee_id", "jwt", "email"], policy.Redaction!.Detectors.Select(d => d.Name));
        Assert.Equal(1024, policy.Parameters!.Max.Single().Max);
        Assert.Equal("0.3", policy.Parameters.Defaults.Single(d => d.Name == "temperature").Value!.ToJsonString());
        Assert.Equal("\"gw\"", policy.Parameters.Defaults.Single(d => d.Name == "user").Value!.ToJsonString());
    }

    [Fact]
    public void Schema_RejectsUnknownTransformProperty()
    {
        using var document = JsonDocument.Parse("""{"clusters":{"m":{"provider":"mock"}},"models":[{"name":"x","deployments":[{"cluster":"m"}],"promptTransforms":{"redaction":{"mode":"hide"}}}]}""");

        Assert.False(ConfigFilesTests.Schema.Value.Evaluate(document.RootElement).IsValid);
    }

    [Fact]
    public void Compile_KeyAndTeamScopes_CarriedOnTheKey()
    {
        var options = Options(new PromptTransformOptions { SystemPrompt = new SystemPromptOptions { Text = "model" } }) with
        {
            Auth = new AuthOptions
            {
                Keys = [new KeyOptions { Name = "k", Sha256 = new string('a', 64), Team = "t", PromptTransforms = new PromptTransformOptions { Parameters = new ParameterPolicyOptions { Deny = ["logprobs"] } } }],
                Teams = new() { ["t"] = new TeamOptions { PromptTransforms = new PromptTransformOptions { Guardrails = new GuardrailOptions { MaxPromptChars = 10 } } } },
            },
        };
        Assert.Empty(GatewayOptionsValidator.Validate(options));

        var config = GatewayConfigCompiler.Compile(options, 1, _ => null);

        var key = config.KeysBySha256[new string('a', 64)];
        Assert.Equal(["logprobs"], key.PromptTransforms!.Parameters!.Deny);
        Assert.Equal(10, key.TeamPromptTransforms!.Guardrails!.MaxPromptChars);
        Assert.Equal("model", config.Models["a"].PromptTransforms!.SystemPrompt!.Text);
        Assert.Null(config.PromptTransforms);
    }

    [Fact]
    public void Compile_Alias_ResolvesToTheModel()
    {
        var config = GatewayConfigCompiler.Compile(Options(new PromptTransformOptions(), "fast"), 1, _ => null);

        Assert.Same(config.Models["a"], config.Models["fast"]);
        Assert.Equal(2, config.ModelList.Count);
        Assert.Null(config.Models["a"].PromptTransforms);
    }
}
