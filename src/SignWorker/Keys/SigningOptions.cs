using System.ComponentModel.DataAnnotations;

namespace EdgeSigner.SignWorker.Keys;

/// <summary>The signing keys and where their backends live. Section <c>EdgeSigner:Signing</c>.</summary>
public sealed class SigningOptions
{
    public const string SectionName = "EdgeSigner:Signing";

    /// <summary>
    /// The logical keys; each has an edge and a central backend holding the same key material. When none is
    /// configured, embedded mode uses <see cref="DevKey"/>; distributed mode refuses to start.
    /// </summary>
    public List<SigningKeyOptions> Keys { get; set; } = [];

    /// <summary>
    /// Embedded mode's key when none is configured: a local P-256 file under the content root, created on first
    /// run. (A worker in distributed mode never creates one: each worker would sign with a key of its own.)
    /// </summary>
    public static SigningKeyOptions DevKey() => new()
    {
        Kid = "es256-dev-1",
        Edge = new SignerBackendOptions { Backend = SignerBackendKind.Local, KeyFile = "data/keys/es256-dev-1.pem", Region = "local" },
        Central = new SignerBackendOptions { Backend = SignerBackendKind.Local, KeyFile = "data/keys/es256-dev-1.pem", Region = "local" },
    };

    /// <summary>The kid new requests are signed with; the first key when unset.</summary>
    public string? ActiveKid { get; set; }

    public KmsOptions Kms { get; set; } = new();

    public string EffectiveActiveKid => !string.IsNullOrEmpty(ActiveKid) ? ActiveKid : Keys.Count > 0 ? Keys[0].Kid : string.Empty;
}

public sealed class SigningKeyOptions
{
    public string Kid { get; set; } = string.Empty;
    /// <summary>The default edge backend: the region nearest most callers.</summary>
    public SignerBackendOptions Edge { get; set; } = new();

    /// <summary>More edge backends (KMS multi-Region replicas) that smart placement may choose per request.</summary>
    public List<SignerBackendOptions> EdgeReplicas { get; set; } = [];

    /// <summary>The primary key in its central region.</summary>
    public SignerBackendOptions Central { get; set; } = new();

    /// <summary>
    /// The key's policy when its edge backend cannot sign for a configuration reason (disabled, missing, wrong
    /// usage or state): false (the default) fails the request with a precise error; true signs with the central key.
    /// </summary>
    public bool FallbackOnConfigurationError { get; set; }
}

public enum SignerBackendKind
{
    Local,
    Kms,
}

public sealed class SignerBackendOptions
{
    public SignerBackendKind Backend { get; set; } = SignerBackendKind.Local;

    /// <summary>For <c>Local</c>: the PEM file, created (mode 0600) when missing. Relative to the content root.</summary>
    public string? KeyFile { get; set; }

    /// <summary>For <c>Kms</c>: the key id, ARN or alias.</summary>
    public string? KmsKeyId { get; set; }

    /// <summary>The region the backend lives in (an AWS region for KMS; a label such as <c>local</c> for files).</summary>
    public string Region { get; set; } = "local";
}

/// <summary>How the worker reaches AWS KMS. Credentials come from the AWS default chain unless set here.</summary>
public sealed class KmsOptions
{
    /// <summary>An endpoint URL for KMS-compatible servers (tests, LocalStack); AWS's regional endpoint when unset.</summary>
    public string? ServiceUrl { get; set; }

    public string? AccessKeyId { get; set; }
    public string? SecretAccessKey { get; set; }

    /// <summary>The SDK's own retries: none by default, so they do not multiply with the worker's failure policy.</summary>
    [Range(0, 3)]
    public int MaxErrorRetry { get; set; }

    /// <summary>
    /// US dollars per 10,000 KMS requests, for the cost metric (<c>edgesigner_kms_cost_usd_total</c>): AWS's price
    /// for asymmetric requests is 0.15.
    /// </summary>
    [Range(0, 1000)]
    public double PricePer10kRequests { get; set; } = 0.15;
}

/// <summary>Validates <see cref="SigningOptions"/> at start, naming the setting that is wrong.</summary>
public sealed class SigningOptionsValidator(IConfiguration configuration, IHostEnvironment environment) : Microsoft.Extensions.Options.IValidateOptions<SigningOptions>
{
    public Microsoft.Extensions.Options.ValidateOptionsResult Validate(string? name, SigningOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var errors = new List<string>();
        if (options.Keys.Count == 0)
        {
            errors.Add(EdgeSigner.ServiceDefaults.DeploymentMode.IsDistributed(configuration)
                ? $"{SigningOptions.SectionName}:Keys: no signing key is configured. A worker in distributed mode does not generate one " +
                  "(each worker would sign with a key of its own): give every worker the same key, a KMS key (Keys:0:Edge:Backend=Kms, " +
                  "Keys:0:Edge:KmsKeyId, and the same for Central) or one PEM file (Keys:0:Kid, Keys:0:Edge:KeyFile, Keys:0:Central:KeyFile)."
                : $"{SigningOptions.SectionName}:Keys must name at least one key.");
        }

        var kids = new HashSet<string>(StringComparer.Ordinal);
        for (var i = 0; i < options.Keys.Count; i++)
        {
            var key = options.Keys[i];
            var prefix = $"{SigningOptions.SectionName}:Keys:{i}";
            if (string.IsNullOrWhiteSpace(key.Kid) || key.Kid.Length > 128)
            {
                errors.Add($"{prefix}:Kid is required (1 to 128 characters).");
            }
            else if (!kids.Add(key.Kid))
            {
                errors.Add($"{prefix}:Kid '{key.Kid}' is used twice.");
            }

            Check(key.Edge, $"{prefix}:Edge", errors);
            Check(key.Central, $"{prefix}:Central", errors);
            for (var r = 0; r < key.EdgeReplicas.Count; r++)
            {
                Check(key.EdgeReplicas[r], $"{prefix}:EdgeReplicas:{r}", errors);
            }

            var regions = key.EdgeReplicas.Select(b => b.Region).Append(key.Edge.Region).ToList();
            if (regions.Distinct(StringComparer.OrdinalIgnoreCase).Count() != regions.Count)
            {
                errors.Add($"{prefix}:EdgeReplicas: each edge region may appear once (Edge:Region included).");
            }
        }

        if (!string.IsNullOrEmpty(options.ActiveKid) && !kids.Contains(options.ActiveKid))
        {
            errors.Add($"{SigningOptions.SectionName}:ActiveKid '{options.ActiveKid}' is not one of the configured keys.");
        }

        if (options.Kms.ServiceUrl is { Length: > 0 } url && !Uri.TryCreate(url, UriKind.Absolute, out _))
        {
            errors.Add($"{SigningOptions.SectionName}:Kms:ServiceUrl '{url}' is not an absolute URL.");
        }

        return errors.Count == 0
            ? Microsoft.Extensions.Options.ValidateOptionsResult.Success
            : Microsoft.Extensions.Options.ValidateOptionsResult.Fail(errors);
    }

    /// <summary>A local backend's key file, resolved against the content root as <see cref="SigningKeyRegistry"/> does.</summary>
    public static string KeyFilePath(SignerBackendOptions backend, string contentRoot)
    {
        ArgumentNullException.ThrowIfNull(backend);
        return Path.IsPathRooted(backend.KeyFile) ? backend.KeyFile : Path.Combine(contentRoot, backend.KeyFile!);
    }

    private void Check(SignerBackendOptions backend, string prefix, List<string> errors)
    {
        if (backend.Backend == SignerBackendKind.Local && !string.IsNullOrWhiteSpace(backend.KeyFile)
            && LocalKeyFile.Problem(KeyFilePath(backend, environment.ContentRootPath)) is { } problem)
        {
            errors.Add($"{prefix}:KeyFile: {problem}");
        }

        if (string.IsNullOrWhiteSpace(backend.Region))
        {
            errors.Add($"{prefix}:Region is required.");
        }

        switch (backend.Backend)
        {
            case SignerBackendKind.Local when string.IsNullOrWhiteSpace(backend.KeyFile):
                errors.Add($"{prefix}:KeyFile is required when {prefix}:Backend is Local.");
                break;
            case SignerBackendKind.Kms when string.IsNullOrWhiteSpace(backend.KmsKeyId):
                errors.Add($"{prefix}:KmsKeyId is required when {prefix}:Backend is Kms.");
                break;
        }
    }
}
