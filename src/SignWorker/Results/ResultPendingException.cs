namespace EdgeSigner.SignWorker.Results;

/// <summary>A request whose result another worker is producing: try again later.</summary>
public sealed class ResultPendingException : Exception
{
    public ResultPendingException()
    {
    }

    public ResultPendingException(string message) : base(message)
    {
    }

    public ResultPendingException(string message, Exception inner) : base(message, inner)
    {
    }
}
