namespace Quanta.Core.Templates;

// AST of a chat template, mirroring @huggingface/jinja's node set. Offset: original source offset
// of the node's first token (for runtime error positions).

internal abstract class Node(int offset)
{
    public int Offset { get; } = offset;
}

internal sealed class TemplateProgram(List<Node> body) : Node(0)
{
    public List<Node> Body { get; } = body;
}

internal sealed class IfNode(int offset, Node test, List<Node> body, List<Node> alternate) : Node(offset)
{
    public Node Test { get; } = test;
    public List<Node> Body { get; } = body;
    public List<Node> Alternate { get; } = alternate;
}

internal sealed class ForNode(int offset, Node loopVar, Node iterable, List<Node> body, List<Node> defaultBlock) : Node(offset)
{
    public Node LoopVar { get; } = loopVar;
    public Node Iterable { get; } = iterable;
    public List<Node> Body { get; } = body;
    public List<Node> DefaultBlock { get; } = defaultBlock;
}

internal sealed class BreakNode(int offset) : Node(offset);

internal sealed class ContinueNode(int offset) : Node(offset);

internal sealed class SetNode(int offset, Node assignee, Node? value, List<Node> body) : Node(offset)
{
    public Node Assignee { get; } = assignee;
    public Node? Value { get; } = value;
    public List<Node> Body { get; } = body;
}

internal sealed class MacroNode(int offset, IdentifierNode name, List<Node> args, List<Node> body) : Node(offset)
{
    public IdentifierNode Name { get; } = name;
    public List<Node> Args { get; } = args;
    public List<Node> Body { get; } = body;
}

internal sealed class CommentNode(int offset) : Node(offset);

internal sealed class MemberNode(int offset, Node obj, Node property, bool computed) : Node(offset)
{
    public Node Object { get; } = obj;
    public Node Property { get; } = property;
    public bool Computed { get; } = computed;
}

internal sealed class CallNode(int offset, Node callee, List<Node> args) : Node(offset)
{
    public Node Callee { get; } = callee;
    public List<Node> Args { get; } = args;
}

internal sealed class IdentifierNode(int offset, string name) : Node(offset)
{
    public string Name { get; } = name;
}

internal sealed class IntegerLiteralNode(int offset, double value) : Node(offset)
{
    public double Value { get; } = value;
}

internal sealed class FloatLiteralNode(int offset, double value) : Node(offset)
{
    public double Value { get; } = value;
}

internal sealed class StringLiteralNode(int offset, string value) : Node(offset)
{
    public string Value { get; } = value;
}

internal sealed class ArrayLiteralNode(int offset, List<Node> items) : Node(offset)
{
    public List<Node> Items { get; } = items;
}

internal sealed class TupleLiteralNode(int offset, List<Node> items) : Node(offset)
{
    public List<Node> Items { get; } = items;
}

internal sealed class ObjectLiteralNode(int offset, List<(Node Key, Node Value)> entries) : Node(offset)
{
    public List<(Node Key, Node Value)> Entries { get; } = entries;
}

internal sealed class BinaryNode(int offset, string op, Node left, Node right) : Node(offset)
{
    public string Operator { get; } = op;
    public Node Left { get; } = left;
    public Node Right { get; } = right;
}

/// <summary><c>operand | filter</c>; Filter is an IdentifierNode or a CallNode with an identifier callee.</summary>
internal sealed class FilterNode(int offset, Node operand, Node filter) : Node(offset)
{
    public Node Operand { get; } = operand;
    public Node Filter { get; } = filter;
}

internal sealed class FilterStatementNode(int offset, Node filter, List<Node> body) : Node(offset)
{
    public Node Filter { get; } = filter;
    public List<Node> Body { get; } = body;
}

/// <summary><c>lhs if test</c> without else (undefined when the test fails); also a for-loop filter.</summary>
internal sealed class SelectNode(int offset, Node lhs, Node test) : Node(offset)
{
    public Node Lhs { get; } = lhs;
    public Node Test { get; } = test;
}

internal sealed class TestNode(int offset, Node operand, bool negate, string test) : Node(offset)
{
    public Node Operand { get; } = operand;
    public bool Negate { get; } = negate;
    public string Test { get; } = test;
}

internal sealed class UnaryNode(int offset, string op, Node argument) : Node(offset)
{
    public string Operator { get; } = op;
    public Node Argument { get; } = argument;
}

internal sealed class SliceNode(int offset, Node? start, Node? stop, Node? step) : Node(offset)
{
    public Node? Start { get; } = start;
    public Node? Stop { get; } = stop;
    public Node? Step { get; } = step;
}

internal sealed class KeywordArgumentNode(int offset, IdentifierNode key, Node value) : Node(offset)
{
    public IdentifierNode Key { get; } = key;
    public Node Value { get; } = value;
}

internal sealed class SpreadNode(int offset, Node argument) : Node(offset)
{
    public Node Argument { get; } = argument;
}

internal sealed class KeywordSpreadNode(int offset, Node argument) : Node(offset)
{
    public Node Argument { get; } = argument;
}

internal sealed class CallStatementNode(int offset, CallNode call, List<Node>? callerArgs, List<Node> body) : Node(offset)
{
    public CallNode Call { get; } = call;
    public List<Node>? CallerArgs { get; } = callerArgs;
    public List<Node> Body { get; } = body;
}

internal sealed class TernaryNode(int offset, Node condition, Node trueExpr, Node falseExpr) : Node(offset)
{
    public Node Condition { get; } = condition;
    public Node TrueExpr { get; } = trueExpr;
    public Node FalseExpr { get; } = falseExpr;
}
