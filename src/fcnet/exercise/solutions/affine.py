"""Reference solution: the affine (fully-connected) layer."""



def affine_forward(x, w, b):
    return x @ w.T + b


def affine_backward(g, x, w, b):
    dx = g @ w
    dw = g.T @ x
    db = g.sum(axis=0)
    return dx, dw, db
