set terminal pngcairo size 720,420 noenhanced
set output 'mnist-hierarchical.png'
set title 'MNIST, hierarchical'
set xlabel 'epoch'
set ylabel '-log p(x) (nats, IW)'
set key top right
set grid
plot 'mnist-hierarchical.dat' index 0 using 1:2 with linespoints title 'standard', 'mnist-hierarchical.dat' index 1 using 1:2 with linespoints title 'iterative', 'mnist-hierarchical.dat' index 2 using 1:2 with linespoints title 'ladder'
