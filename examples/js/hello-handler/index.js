// A Lambda-style handler in JavaScript (the lamina:function/function world).
export const handler = async (event, context) => {
  const name = event.name;
  if (!name) throw new TypeError("name is required");
  return { greeting: `Hello, ${name}!`, requestId: context.awsRequestId, function: context.functionName };
};
