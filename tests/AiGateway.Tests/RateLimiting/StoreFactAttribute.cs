using Xunit.Abstractions;
using Xunit.Sdk;

namespace AiGateway.Tests.RateLimiting;

/// <summary>Marks a test class whose tests need a real <c>redis-server</c>.</summary>
public interface IRequiresRedis;

/// <summary>
/// A fact that is reported as skipped, with the reason, when its class needs Redis and the binary is
/// absent. Lets one contract-test class run against every store.
/// </summary>
[XunitTestCaseDiscoverer("AiGateway.Tests.RateLimiting.StoreFactDiscoverer", "AiGateway.Tests")]
[AttributeUsage(AttributeTargets.Method)]
public sealed class StoreFactAttribute : FactAttribute;

public sealed class StoreFactDiscoverer(IMessageSink diagnosticMessageSink) : IXunitTestCaseDiscoverer
{
    public IEnumerable<IXunitTestCase> Discover(ITestFrameworkDiscoveryOptions discoveryOptions, ITestMethod testMethod, IAttributeInfo factAttribute)
    {
        var needsRedis = typeof(IRequiresRedis).IsAssignableFrom(testMethod.TestClass.Class.ToRuntimeType());
        var display = discoveryOptions.MethodDisplayOrDefault();
        var displayOptions = discoveryOptions.MethodDisplayOptionsOrDefault();
        if (needsRedis && !RedisServer.IsInstalled)
        {
            return [new SkippedTestCase(diagnosticMessageSink, display, displayOptions, testMethod, RedisServer.MissingReason)];
        }

        return [new XunitTestCase(diagnosticMessageSink, display, displayOptions, testMethod)];
    }
}

/// <summary>A test case that always reports skipped with a given reason.</summary>
public sealed class SkippedTestCase : XunitTestCase
{
    private string _reason = string.Empty;

    [Obsolete("Called by the de-serializer; should only be called by deriving classes for de-serialization purposes")]
    public SkippedTestCase()
    {
    }

    public SkippedTestCase(IMessageSink sink, TestMethodDisplay display, TestMethodDisplayOptions options, ITestMethod testMethod, string reason)
        : base(sink, display, options, testMethod)
    {
        _reason = reason;
    }

    public override void Serialize(IXunitSerializationInfo data)
    {
        base.Serialize(data);
        data.AddValue("Reason", _reason);
    }

    public override void Deserialize(IXunitSerializationInfo data)
    {
        _reason = data.GetValue<string>("Reason");
        base.Deserialize(data);
    }

    protected override string GetSkipReason(IAttributeInfo factAttribute) => _reason;
}

/// <summary>A plain fact for tests that need Redis; skipped with the reason when the binary is absent.</summary>
[AttributeUsage(AttributeTargets.Method)]
public sealed class RedisFactAttribute : FactAttribute
{
    public RedisFactAttribute()
    {
        if (!RedisServer.IsInstalled)
        {
            Skip = RedisServer.MissingReason;
        }
    }
}
